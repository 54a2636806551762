// jsdom has no layout: matchMedia answers as a desktop or a phone would.
export function setViewport(kind: 'desktop' | 'phone'): void {
  const desktop = kind === 'desktop';
  Object.defineProperty(window, 'matchMedia', {
    configurable: true,
    writable: true,
    value: (query: string) => ({
      matches: /min-width/.test(query) ? desktop : !desktop,
      media: query,
      onchange: null,
      addEventListener: () => undefined,
      removeEventListener: () => undefined,
      addListener: () => undefined,
      removeListener: () => undefined,
      dispatchEvent: () => false,
    }),
  });
}

