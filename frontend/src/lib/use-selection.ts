import { useCallback, useEffect, useMemo, useRef, useState } from 'react';

export type Selection = {
  selected: ReadonlySet<number>;
  count: number;
  // 'some' is the select-all checkbox's indeterminate state.
  all: 'none' | 'some' | 'all';
  isSelected: (id: number) => boolean;
  // toggle flips id; with range (shift-click) every id between the last
  // one toggled and id takes id's new state.
  toggle: (id: number, range: boolean) => void;
  toggleAll: () => void;
  clear: () => void;
};

// useSelection is the checkbox selection of a list of ids (the rows
// loaded, in their order). Ids that leave the list leave the selection.
export function useSelection(ids: number[]): Selection {
  const [selected, setSelected] = useState<ReadonlySet<number>>(() => new Set());
  const anchor = useRef<number | null>(null);
  const key = ids.join(',');
  // A new array on every render, the same ids: keyed on their text.
  const listed = useMemo(() => (key === '' ? [] : key.split(',').map(Number)), [key]);

  useEffect(() => {
    const present = new Set(listed);
    setSelected((s) => {
      const kept = [...s].filter((id) => present.has(id));
      return kept.length === s.size ? s : new Set(kept);
    });
    if (anchor.current !== null && !present.has(anchor.current)) anchor.current = null;
  }, [listed]);

  const toggle = useCallback(
    (id: number, range: boolean) => {
      // Read the anchor now: the updater may run after it moves.
      const from = anchor.current === null ? -1 : listed.indexOf(anchor.current);
      const to = listed.indexOf(id);
      setSelected((s) => {
        const next = new Set(s);
        const on = !s.has(id);
        if (range && from >= 0 && to >= 0) {
          for (let i = Math.min(from, to); i <= Math.max(from, to); i++) {
            if (on) next.add(listed[i]);
            else next.delete(listed[i]);
          }
        } else if (on) next.add(id);
        else next.delete(id);
        return next;
      });
      anchor.current = id;
    },
    [listed],
  );

  const count = listed.filter((id) => selected.has(id)).length;
  const all = count === 0 ? 'none' : count === listed.length ? 'all' : 'some';
  const toggleAll = useCallback(() => {
    setSelected((s) => (listed.length > 0 && listed.every((id) => s.has(id)) ? new Set() : new Set(listed)));
  }, [listed]);
  const clear = useCallback(() => {
    setSelected(new Set());
    anchor.current = null;
  }, []);
  const isSelected = useCallback((id: number) => selected.has(id), [selected]);

  return { selected, count, all, isSelected, toggle, toggleAll, clear };
}
