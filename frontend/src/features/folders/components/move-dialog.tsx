import { useRef, useState } from 'react';

import { Button } from '@/components/ui/button';
import { Dialog } from '@/components/ui/dialog';
import { Skeleton } from '@/components/ui/skeleton';
import { useFolders } from '@/features/folders/api/folders';
import { FolderIcon } from '@/features/folders/components/folder-icon';
import { ROOT_NAME, type FolderCrumb, type FolderId } from '@/features/folders/types';
import { toApiError } from '@/lib/api-error';

export type MoveTarget = { id: FolderId; name: string };

type MoveDialogProps = {
  // "Move report.pdf", "Move 3 files", "Move folder Projects".
  title: string;
  // A folder being moved: it (and so what is inside it) cannot be chosen.
  movingFolderId?: number;
  // Where what moves is now (undefined: not one place, e.g. search
  // results): moving there would change nothing.
  from?: FolderId;
  // Moves; a rejection keeps the dialog open with the reason.
  onMove: (target: MoveTarget) => Promise<void>;
  describeError?: (err: unknown, target: MoveTarget) => string;
  onClose: () => void;
};

// MoveDialog browses the folders, from the root down (Up goes back), and
// moves what it was opened for into the folder shown ("Move here").
export function MoveDialog({ title, movingFolderId, from, onMove, describeError, onClose }: MoveDialogProps) {
  // The folders opened, from the root down: the last is the one shown.
  const [trail, setTrail] = useState<FolderCrumb[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const here: MoveTarget = trail.length === 0 ? { id: null, name: ROOT_NAME } : trail[trail.length - 1];
  const folders = useFolders(here.id);
  const placeRef = useRef<HTMLParagraphElement>(null);
  const alreadyHere = from !== undefined && from === here.id;

  const go = (next: FolderCrumb[]) => {
    setTrail(next);
    setError(null);
    // Focus follows to the place now shown (the button pressed is gone).
    placeRef.current?.focus();
  };

  const moveHere = () => {
    setPending(true);
    setError(null);
    onMove(here).then(
      () => setPending(false),
      (err: unknown) => {
        setPending(false);
        setError(describeError ? describeError(err, here) : toApiError(err).message);
      },
    );
  };

  return (
    <Dialog title={title} onClose={onClose}>
      <p ref={placeRef} tabIndex={-1} aria-live="polite" className="mt-2 text-sm text-slate-600 focus:outline-none">
        In: <span className="font-medium break-all text-slate-800">{[ROOT_NAME, ...trail.map((c) => c.name)].join(' / ')}</span>
      </p>
      <div className="mt-3">
        <Button variant="secondary" size="sm" disabled={trail.length === 0} onClick={() => go(trail.slice(0, -1))}>
          <span aria-hidden="true">↑</span>
          {trail.length === 0 ? 'Up' : `Up to ${trail.length === 1 ? ROOT_NAME : trail[trail.length - 2].name}`}
        </Button>
      </div>
      <div className="mt-3 max-h-64 overflow-y-auto rounded-md border border-slate-200">
        {folders.isPending ? (
          <div role="status" aria-label="Loading folders" className="space-y-2 p-2">
            <Skeleton className="h-8 w-full" />
            <Skeleton className="h-8 w-full" />
          </div>
        ) : folders.isError ? (
          <p role="alert" className="p-3 text-sm text-red-700">
            Could not load the folders: {toApiError(folders.error).message}
          </p>
        ) : folders.data.length === 0 ? (
          <p className="p-3 text-sm text-slate-600">No folders in here.</p>
        ) : (
          <ul aria-label={`Folders in ${here.name}`} className="divide-y divide-slate-100">
            {folders.data.map((f) => {
              const moving = f.id === movingFolderId;
              return (
                <li key={f.id}>
                  <button
                    type="button"
                    disabled={moving}
                    onClick={() => go([...trail, { id: f.id, name: f.name }])}
                    className="flex w-full items-center gap-2 px-3 py-2 text-left text-sm hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-inset disabled:cursor-not-allowed disabled:text-slate-400"
                  >
                    <FolderIcon />
                    <span className="min-w-0 flex-1 break-all">{f.name}</span>
                    {moving ? <span className="text-xs">(the folder being moved)</span> : <span aria-hidden="true">›</span>}
                  </button>
                </li>
              );
            })}
          </ul>
        )}
      </div>
      {alreadyHere && <p className="mt-2 text-xs text-slate-600">Already here: open another folder to move it there.</p>}
      {error && (
        <p role="alert" className="mt-3 rounded-md border border-red-200 bg-red-50 p-2 text-sm text-red-800">
          {error}
        </p>
      )}
      <div className="mt-6 flex flex-wrap justify-end gap-3">
        <Button variant="secondary" onClick={onClose} disabled={pending}>
          Cancel
        </Button>
        <Button onClick={moveHere} isLoading={pending} disabled={alreadyHere}>
          Move here
        </Button>
      </div>
    </Dialog>
  );
}
