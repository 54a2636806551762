import { useId, useRef, type ReactNode } from 'react';

import { Button } from '@/components/ui/button';
import { Dialog } from '@/components/ui/dialog';

type ConfirmDialogProps = {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  isPending?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
};

// ConfirmDialog is a small modal: focus moves to Cancel on open, Tab stays
// inside, Escape cancels, and focus returns to what opened it.
export function ConfirmDialog({ open, title, children, confirmLabel, isPending, onConfirm, onCancel }: ConfirmDialogProps) {
  const descId = useId();
  const cancelRef = useRef<HTMLButtonElement>(null);

  if (!open) return null;

  // Its titles are short sentences: they wrap between words.
  return (
    <Dialog title={title} onClose={onCancel} initialFocus={cancelRef} describedBy={descId} titleClassName="">
      <div id={descId} className="mt-2 text-sm text-slate-600">
        {children}
      </div>
      <div className="mt-6 flex justify-end gap-3">
        <Button ref={cancelRef} variant="secondary" onClick={onCancel} disabled={isPending}>
          Cancel
        </Button>
        <Button variant="danger" onClick={onConfirm} isLoading={isPending}>
          {confirmLabel}
        </Button>
      </div>
    </Dialog>
  );
}
