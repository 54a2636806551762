import { useState } from 'react';

import { Button } from '@/components/ui/button';
import { ConfirmDialog } from '@/components/ui/confirm-dialog';
import { ErrorFallback } from '@/components/ui/error-fallback';
import { Skeleton } from '@/components/ui/skeleton';
import { useToast } from '@/components/ui/toast';
import { useDeleteFile } from '@/features/files/api/delete-file';
import { useDownloadFile } from '@/features/files/api/download-file';
import { useFiles, type FilesFilter } from '@/features/files/api/get-files';
import { useUploadConfig } from '@/features/files/api/get-upload-config';
import { TierBadge } from '@/features/files/components/tier-badge';
import { ShareDialog } from '@/features/shares/components/share-dialog';
import type { FileObject, StorageLocation } from '@/features/files/types';
import { useRestoreFile } from '@/features/trash/api/trash';
import { toApiError } from '@/lib/api-error';
import { formatBytes, formatDate } from '@/lib/format';
import { useDebouncedValue } from '@/lib/use-debounced-value';
import { useMediaQuery } from '@/lib/use-media-query';

type FileListProps = { refetchIntervalMs?: number; searchDebounceMs?: number };

export function FileList({ refetchIntervalMs, searchDebounceMs = 300 }: FileListProps) {
  const [search, setSearch] = useState('');
  const [location, setLocation] = useState<StorageLocation | ''>('');
  const q = useDebouncedValue(search.trim(), searchDebounceMs);
  const filter: FilesFilter = { q, location };
  const files = useFiles(filter, refetchIntervalMs);
  const isDesktop = useMediaQuery('(min-width: 768px)');
  const { notify } = useToast();
  const download = useDownloadFile();
  const remove = useDeleteFile();
  const restore = useRestoreFile();
  const [toDelete, setToDelete] = useState<FileObject | null>(null);
  const [toShare, setToShare] = useState<FileObject | null>(null);
  // Servers before the trash say nothing: a delete there is final.
  const trashDays = useUploadConfig().data?.trash_retention_days ?? 0;
  const hasTrash = trashDays > 0;

  const all = files.data?.pages.flatMap((p) => p.files) ?? [];
  const filtered = q !== '' || location !== '';

  const onDownload = (file: FileObject) =>
    download.mutate(file, {
      onError: (err) => notify('error', `Download of ${file.original_filename} failed: ${toApiError(err).message}`),
    });

  const onConfirmDelete = () => {
    if (!toDelete) return;
    const file = toDelete;
    remove.mutate(file.id, {
      onSuccess: () => {
        setToDelete(null);
        if (!hasTrash) {
          notify('success', `Deleted ${file.original_filename}`);
          return;
        }
        notify('success', `Moved ${file.original_filename} to the trash`, {
          label: 'Undo',
          onClick: () =>
            restore.mutate(file.id, {
              onSuccess: () => notify('success', `Restored ${file.original_filename}`),
              onError: (err) => notify('error', `Could not restore ${file.original_filename}: ${toApiError(err).message}`),
            }),
        });
      },
      onError: (err) => {
        notify('error', `Could not delete ${file.original_filename}: ${toApiError(err).message}`);
        setToDelete(null);
      },
    });
  };

  const actions = { onDownload, onDelete: setToDelete, onShare: setToShare, downloadingId: download.isPending ? download.variables?.id : undefined };

  return (
    <section aria-labelledby="files-heading" className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <h2 id="files-heading" className="text-lg font-semibold">
          Your files
        </h2>
        <div className="flex flex-wrap gap-2">
          <div>
            <label htmlFor="file-search" className="sr-only">
              Search files
            </label>
            <input
              id="file-search"
              type="search"
              placeholder="Search by name"
              value={search}
              onChange={(e) => setSearch(e.target.value)}
              className="w-48 rounded-md border border-slate-300 px-3 py-1.5 text-sm focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
            />
          </div>
          <div>
            <label htmlFor="file-tier" className="sr-only">
              Storage tier
            </label>
            <select
              id="file-tier"
              value={location}
              onChange={(e) => setLocation(e.target.value as StorageLocation | '')}
              className="rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
            >
              <option value="">All tiers</option>
              <option value="minio">MinIO</option>
              <option value="s3">S3</option>
            </select>
          </div>
        </div>
      </div>

      <div className="mt-4" aria-busy={files.isFetching || undefined}>
        {files.isPending ? (
          <ListSkeleton />
        ) : files.isError ? (
          <ErrorFallback
            title="Could not load your files"
            message={toApiError(files.error).message}
            onRetry={() => void files.refetch()}
          />
        ) : all.length === 0 ? (
          <p className="rounded-md border border-dashed border-slate-300 p-8 text-center text-sm text-slate-600">
            {filtered ? 'No files match your search.' : 'No files yet. Upload your first file above.'}
          </p>
        ) : isDesktop ? (
          <FileTable files={all} {...actions} />
        ) : (
          <FileCards files={all} {...actions} />
        )}
      </div>

      {files.hasNextPage && (
        <div className="mt-4 flex justify-center">
          <Button variant="secondary" onClick={() => void files.fetchNextPage()} isLoading={files.isFetchingNextPage}>
            Load more
          </Button>
        </div>
      )}

      {toShare && <ShareDialog file={toShare} onClose={() => setToShare(null)} />}

      <ConfirmDialog
        open={toDelete !== null}
        title={hasTrash ? 'Move to trash?' : 'Delete file?'}
        confirmLabel={hasTrash ? 'Move to trash' : 'Delete'}
        isPending={remove.isPending}
        onCancel={() => setToDelete(null)}
        onConfirm={onConfirmDelete}
      >
        <span className="font-medium break-all">{toDelete?.original_filename}</span>
        {hasTrash
          ? ` goes to the trash: you can restore it there for ${trashDays} ${trashDays === 1 ? 'day' : 'days'}, then it is removed from every tier.`
          : ' will be removed from every tier. This cannot be undone.'}
      </ConfirmDialog>
    </section>
  );
}

type ItemActions = {
  onDownload: (f: FileObject) => void;
  onDelete: (f: FileObject) => void;
  onShare: (f: FileObject) => void;
  downloadingId: number | undefined;
};

function FileActions({ file, onDownload, onDelete, onShare, downloadingId }: { file: FileObject } & ItemActions) {
  return (
    <div className="flex gap-2">
      <Button
        variant="secondary"
        size="sm"
        onClick={() => onDownload(file)}
        isLoading={downloadingId === file.id}
        aria-label={`Download ${file.original_filename}`}
      >
        Download
      </Button>
      <Button variant="secondary" size="sm" onClick={() => onShare(file)} aria-label={`Share ${file.original_filename}`}>
        Share
      </Button>
      <Button variant="ghost" size="sm" className="text-red-700" onClick={() => onDelete(file)} aria-label={`Delete ${file.original_filename}`}>
        Delete
      </Button>
    </div>
  );
}

function FileTable({ files, ...actions }: { files: FileObject[] } & ItemActions) {
  return (
    <table className="w-full text-left text-sm">
      <thead className="border-b border-slate-200 text-xs uppercase text-slate-500">
        <tr>
          <th scope="col" className="py-2 pr-3 font-medium">
            Name
          </th>
          <th scope="col" className="px-3 py-2 font-medium">
            Size
          </th>
          <th scope="col" className="px-3 py-2 font-medium">
            Uploaded
          </th>
          <th scope="col" className="px-3 py-2 font-medium">
            Tier
          </th>
          <th scope="col" className="py-2 pl-3 font-medium">
            <span className="sr-only">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody className="divide-y divide-slate-100">
        {files.map((f) => (
          <tr key={f.id} data-testid="file-row">
            <td className="max-w-xs truncate py-2 pr-3 font-medium" title={f.original_filename}>
              {f.original_filename}
            </td>
            <td className="px-3 py-2 whitespace-nowrap text-slate-600">{formatBytes(f.file_size)}</td>
            <td className="px-3 py-2 whitespace-nowrap text-slate-600">
              <time dateTime={f.uploaded_at}>{formatDate(f.uploaded_at)}</time>
            </td>
            <td className="px-3 py-2">
              <TierBadge file={f} />
            </td>
            <td className="py-2 pl-3">
              <FileActions file={f} {...actions} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function FileCards({ files, ...actions }: { files: FileObject[] } & ItemActions) {
  return (
    <ul className="space-y-3" aria-label="Files">
      {files.map((f) => (
        <li key={f.id} data-testid="file-row" className="rounded-md border border-slate-200 p-3">
          <div className="flex items-start justify-between gap-2">
            <p className="min-w-0 font-medium break-all">{f.original_filename}</p>
            <TierBadge file={f} />
          </div>
          <p className="mt-1 text-xs text-slate-600">
            {formatBytes(f.file_size)} · <time dateTime={f.uploaded_at}>{formatDate(f.uploaded_at)}</time>
          </p>
          <div className="mt-2">
            <FileActions file={f} {...actions} />
          </div>
        </li>
      ))}
    </ul>
  );
}

function ListSkeleton() {
  return (
    <div role="status" aria-label="Loading files" className="space-y-3">
      {[0, 1, 2].map((i) => (
        <Skeleton key={i} className="h-10 w-full" />
      ))}
    </div>
  );
}
