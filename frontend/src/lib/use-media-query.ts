import { useSyncExternalStore } from 'react';

// useMediaQuery renders one layout at a time (table or cards) instead of both
// hidden by CSS, so screen readers and tests see a single list.
export function useMediaQuery(query: string): boolean {
  return useSyncExternalStore(
    (onChange) => {
      const mql = window.matchMedia(query);
      mql.addEventListener('change', onChange);
      return () => mql.removeEventListener('change', onChange);
    },
    () => window.matchMedia(query).matches,
    () => true,
  );
}
