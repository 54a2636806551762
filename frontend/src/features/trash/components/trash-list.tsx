import { useState } from 'react';

import { Button } from '@/components/ui/button';
import { ConfirmDialog } from '@/components/ui/confirm-dialog';
import { ErrorFallback } from '@/components/ui/error-fallback';
import { BulkBar, RowCheckbox, SelectAllCheckbox } from '@/components/ui/selection';
import { Skeleton } from '@/components/ui/skeleton';
import { useToast } from '@/components/ui/toast';
import { bulkSummary, useBulkFiles } from '@/features/files/api/bulk-files';
import { TierBadge } from '@/features/files/components/tier-badge';
import { usePurgeFolder, useRestoreFolder } from '@/features/folders/api/folders';
import { FolderIcon } from '@/features/folders/components/folder-icon';
import { restoreErrorMessage } from '@/features/folders/utils/folder-errors';
import {
  daysLeft,
  isTrashedFolder,
  trashEntryKey,
  useEmptyTrash,
  usePurgeFile,
  useRestoreFile,
  useTrash,
  type TrashedFile,
  type TrashedFolder,
  type TrashEntry,
} from '@/features/trash/api/trash';
import { toApiError } from '@/lib/api-error';
import { formatBytes, formatDate } from '@/lib/format';
import { useSelection } from '@/lib/use-selection';

function daysLeftText(f: TrashEntry): string {
  const n = daysLeft(f.purge_at);
  if (n === 0) return 'removed soon';
  return n === 1 ? '1 day left' : `${n} days left`;
}

const fileCount = (n: number) => (n === 1 ? '1 file' : `${n} files`);

// TrashList shows the user's trash: restore a file (or the selected ones)
// or a folder with everything in it, delete either forever, or empty the
// whole trash.
export function TrashList() {
  const trash = useTrash();
  const restore = useRestoreFile();
  const purge = usePurgeFile();
  const restoreFolder = useRestoreFolder();
  const purgeFolder = usePurgeFolder();
  const empty = useEmptyTrash();
  const { notify } = useToast();
  const [toPurge, setToPurge] = useState<TrashEntry | null>(null);
  const [confirmEmpty, setConfirmEmpty] = useState(false);

  const entries = trash.data?.pages.flatMap((p) => p.files) ?? [];
  // The checkboxes and bulk restore are the files'.
  const all = entries.filter((e): e is TrashedFile => !isTrashedFolder(e));
  const selection = useSelection(all.map((f) => f.id));
  const bulk = useBulkFiles();

  const onRestoreSelected = () => {
    const names = new Map(all.map((f) => [f.id, f.original_filename]));
    const ids = all.filter((f) => selection.isSelected(f.id)).map((f) => f.id);
    bulk.mutate(
      { action: 'restore', ids },
      {
        onSuccess: (results) => {
          selection.clear();
          const { ok, message } = bulkSummary(results, 'Restored {n}', (id) => names.get(id) ?? `file ${id}`);
          notify(ok.length === results.length ? 'success' : ok.length === 0 ? 'error' : 'info', message);
        },
        onError: (err) => notify('error', `Could not restore the selected files: ${toApiError(err).message}`),
      },
    );
  };

  const onRestore = (f: TrashedFile) =>
    restore.mutate(f.id, {
      onSuccess: () => notify('success', `Restored ${f.original_filename}`),
      onError: (err) => notify('error', `Could not restore ${f.original_filename}: ${toApiError(err).message}`),
    });

  const onRestoreFolder = (f: TrashedFolder) =>
    restoreFolder.mutate(f.id, {
      onSuccess: (back) => notify('success', `Restored folder ${back.name}`),
      onError: (err) => notify('error', `Could not restore folder ${f.name}: ${restoreErrorMessage(err, f.name)}`),
    });

  const onConfirmPurge = () => {
    if (!toPurge) return;
    if (isTrashedFolder(toPurge)) {
      const f = toPurge;
      purgeFolder.mutate(f.id, {
        onSuccess: () => notify('success', `Deleted folder ${f.name} forever`),
        onError: (err) => notify('error', `Could not delete folder ${f.name}: ${toApiError(err).message}`),
        onSettled: () => setToPurge(null),
      });
      return;
    }
    const f = toPurge;
    purge.mutate(f.id, {
      onSuccess: () => notify('success', `Deleted ${f.original_filename} forever`),
      onError: (err) => notify('error', `Could not delete ${f.original_filename}: ${toApiError(err).message}`),
      onSettled: () => setToPurge(null),
    });
  };

  const onConfirmEmpty = () =>
    empty.mutate(undefined, {
      onSuccess: () => notify('success', 'Emptied the trash'),
      onError: (err) => notify('error', `Could not empty the trash: ${toApiError(err).message}`),
      onSettled: () => setConfirmEmpty(false),
    });

  return (
    <section aria-labelledby="trash-heading" className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h2 id="trash-heading" className="text-lg font-semibold">
          Trash
        </h2>
        <Button variant="danger" size="sm" onClick={() => setConfirmEmpty(true)} disabled={entries.length === 0}>
          Empty trash
        </Button>
      </div>
      <p className="mt-1 text-sm text-slate-600">
        Files and folders here can be restored until their time runs out; then they are removed from every tier.
      </p>

      <BulkBar selection={selection}>
        <Button variant="secondary" size="sm" onClick={onRestoreSelected} isLoading={bulk.isPending}>
          Restore selected
        </Button>
      </BulkBar>

      <div className="mt-4" aria-busy={trash.isFetching || undefined}>
        {trash.isPending ? (
          <div role="status" aria-label="Loading trash" className="space-y-3">
            {[0, 1].map((i) => (
              <Skeleton key={i} className="h-10 w-full" />
            ))}
          </div>
        ) : trash.isError ? (
          <ErrorFallback title="Could not load the trash" message={toApiError(trash.error).message} onRetry={() => void trash.refetch()} />
        ) : entries.length === 0 ? (
          <p className="rounded-md border border-dashed border-slate-300 p-8 text-center text-sm text-slate-600">The trash is empty.</p>
        ) : (
          <>
            {all.length > 0 && (
              <label className="mb-1 flex items-center gap-2 text-sm text-slate-600">
                <SelectAllCheckbox label="Select all files in the trash" selection={selection} />
                <span aria-hidden="true">Select all</span>
              </label>
            )}
            <ul className="divide-y divide-slate-100" aria-label="Files in the trash">
              {entries.map((f) =>
                isTrashedFolder(f) ? (
                  <TrashedFolderRow
                    key={trashEntryKey(f)}
                    folder={f}
                    onRestore={() => onRestoreFolder(f)}
                    restoring={restoreFolder.isPending && restoreFolder.variables === f.id}
                    onPurge={() => setToPurge(f)}
                  />
                ) : (
                <li key={trashEntryKey(f)} data-testid="trash-row" aria-label={f.original_filename} className="flex flex-wrap items-center justify-between gap-2 py-2">
                  <div className="flex min-w-0 items-start gap-2">
                    <span className="pt-0.5">
                      <RowCheckbox id={f.id} label={f.original_filename} selection={selection} />
                    </span>
                    <div className="min-w-0">
                      <p className="font-medium break-all">{f.original_filename}</p>
                      <p className="text-xs text-slate-600">
                        {formatBytes(f.file_size)} · deleted <time dateTime={f.deleted_at}>{formatDate(f.deleted_at)}</time> ·{' '}
                        <span>{daysLeftText(f)}</span>
                      </p>
                    </div>
                  </div>
                  <div className="flex items-center gap-2">
                    <TierBadge file={f} />
                    <Button
                      variant="secondary"
                      size="sm"
                      onClick={() => onRestore(f)}
                      isLoading={restore.isPending && restore.variables === f.id}
                      aria-label={`Restore ${f.original_filename}`}
                    >
                      Restore
                    </Button>
                    <Button
                      variant="ghost"
                      size="sm"
                      className="text-red-700"
                      onClick={() => setToPurge(f)}
                      aria-label={`Delete ${f.original_filename} forever`}
                    >
                      Delete forever
                    </Button>
                  </div>
                </li>
                ),
              )}
            </ul>
          </>
        )}
      </div>

      {trash.hasNextPage && (
        <div className="mt-4 flex justify-center">
          <Button variant="secondary" onClick={() => void trash.fetchNextPage()} isLoading={trash.isFetchingNextPage}>
            Load more
          </Button>
        </div>
      )}

      <ConfirmDialog
        open={toPurge !== null}
        title="Delete forever?"
        confirmLabel="Delete forever"
        isPending={purge.isPending || purgeFolder.isPending}
        onCancel={() => setToPurge(null)}
        onConfirm={onConfirmPurge}
      >
        {toPurge && isTrashedFolder(toPurge) ? (
          <>
            Folder <span className="font-medium break-all">{toPurge.name}</span> and everything in it ({fileCount(toPurge.file_count)}) will be
            removed from every tier. This cannot be undone.
          </>
        ) : (
          <>
            <span className="font-medium break-all">{toPurge?.original_filename}</span> will be removed from every tier. This cannot be
            undone.
          </>
        )}
      </ConfirmDialog>
      <ConfirmDialog
        open={confirmEmpty}
        title="Empty the trash?"
        confirmLabel="Empty trash"
        isPending={empty.isPending}
        onCancel={() => setConfirmEmpty(false)}
        onConfirm={onConfirmEmpty}
      >
        Every file and folder in the trash will be removed from every tier. This cannot be undone.
      </ConfirmDialog>
    </section>
  );
}

// TrashedFolderRow: a folder deleted with everything in it, as one entry.
function TrashedFolderRow({
  folder,
  onRestore,
  restoring,
  onPurge,
}: {
  folder: TrashedFolder;
  onRestore: () => void;
  restoring: boolean;
  onPurge: () => void;
}) {
  return (
    <li data-testid="trash-row" data-kind="folder" aria-label={folder.name} className="flex flex-wrap items-center justify-between gap-2 py-2">
      <div className="flex min-w-0 items-start gap-2">
        <span className="pt-0.5">
          <FolderIcon className="h-4 w-4 shrink-0 text-amber-500" />
        </span>
        <div className="min-w-0">
          <p className="font-medium break-all">
            <span className="sr-only">Folder </span>
            {folder.name}
          </p>
          <p className="text-xs text-slate-600">
            <span>{`${fileCount(folder.file_count)}, ${formatBytes(folder.total_size)}`}</span> · deleted{' '}
            <time dateTime={folder.deleted_at}>{formatDate(folder.deleted_at)}</time> · <span>{daysLeftText(folder)}</span>
          </p>
        </div>
      </div>
      <div className="flex items-center gap-2">
        <Button variant="secondary" size="sm" onClick={onRestore} isLoading={restoring} aria-label={`Restore folder ${folder.name}`}>
          Restore
        </Button>
        <Button variant="ghost" size="sm" className="text-red-700" onClick={onPurge} aria-label={`Delete folder ${folder.name} forever`}>
          Delete forever
        </Button>
      </div>
    </li>
  );
}
