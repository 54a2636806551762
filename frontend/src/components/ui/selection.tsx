import { useEffect, useRef, type ReactNode } from 'react';

import { Button } from '@/components/ui/button';
import type { Selection } from '@/lib/use-selection';

const boxClass = 'h-4 w-4 rounded border-slate-300 accent-indigo-600 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500';

// RowCheckbox selects one row; shift-click selects the range from the last
// one clicked. A native checkbox: Tab reaches it, Space toggles it.
export function RowCheckbox({ id, label, selection }: { id: number; label: string; selection: Selection }) {
  return (
    <input
      type="checkbox"
      aria-label={`Select ${label}`}
      checked={selection.isSelected(id)}
      onChange={(e) => selection.toggle(id, (e.nativeEvent as MouseEvent).shiftKey === true)}
      className={boxClass}
    />
  );
}

// SelectAllCheckbox selects every loaded row, or none; indeterminate when
// some are.
export function SelectAllCheckbox({ label, selection }: { label: string; selection: Selection }) {
  const ref = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (ref.current) ref.current.indeterminate = selection.all === 'some';
  }, [selection.all]);
  return (
    <input
      ref={ref}
      type="checkbox"
      aria-label={label}
      checked={selection.all === 'all'}
      onChange={selection.toggleAll}
      className={boxClass}
    />
  );
}

// BulkBar shows how many rows are selected, the actions on them and a way
// to clear the selection; nothing while none is.
export function BulkBar({ selection, children }: { selection: Selection; children: ReactNode }) {
  if (selection.count === 0) return null;
  return (
    <div
      role="region"
      aria-label="Selected files"
      className="mt-3 flex flex-wrap items-center gap-3 rounded-md border border-indigo-200 bg-indigo-50 px-3 py-2 text-sm"
    >
      <span aria-live="polite" className="font-medium">
        {selection.count} selected
      </span>
      {children}
      <Button variant="ghost" size="sm" onClick={selection.clear}>
        Clear selection
      </Button>
    </div>
  );
}
