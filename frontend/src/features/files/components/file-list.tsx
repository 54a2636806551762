import { useEffect, useRef, useState, type DragEvent, type KeyboardEvent } from 'react';
import { Link } from 'react-router-dom';

import { Button } from '@/components/ui/button';
import { ConfirmDialog } from '@/components/ui/confirm-dialog';
import { ErrorFallback } from '@/components/ui/error-fallback';
import { Skeleton } from '@/components/ui/skeleton';
import { useToast } from '@/components/ui/toast';
import { BulkBar, RowCheckbox, SelectAllCheckbox } from '@/components/ui/selection';
import { bulkSummary, useBulkFiles } from '@/features/files/api/bulk-files';
import { useDeleteFile } from '@/features/files/api/delete-file';
import { useDownloadFile } from '@/features/files/api/download-file';
import { useFiles, type FileSort, type FilesFilter, type FilesSort } from '@/features/files/api/get-files';
import { useMoveFiles } from '@/features/files/api/move-files';
import { paths } from '@/config/paths';
import { useFolder, useUpdateFolder } from '@/features/folders/api/folders';
import { Breadcrumbs } from '@/features/folders/components/breadcrumbs';
import { FolderList } from '@/features/folders/components/folder-list';
import { MoveDialog, type MoveTarget } from '@/features/folders/components/move-dialog';
import { ROOT_NAME, type FolderId } from '@/features/folders/types';
import { folderErrorMessage } from '@/features/folders/utils/folder-errors';
import { startDraggingFiles, type DraggedFiles, type DraggedFolder } from '@/lib/drag-files';
import { useServerConfig } from '@/lib/server-config';
import { FileName } from '@/features/files/components/file-name';
import { TierBadge } from '@/features/files/components/tier-badge';
import { ShareDialog } from '@/features/shares/components/share-dialog';
import type { FileObject, StorageLocation } from '@/features/files/types';
import { useRestoreFile } from '@/features/trash/api/trash';
import { nextFilesSort, useFilesSort } from '@/features/files/utils/files-sort';
import { toApiError } from '@/lib/api-error';
import { formatBytes, formatDate } from '@/lib/format';
import { useDebouncedValue } from '@/lib/use-debounced-value';
import { useMediaQuery } from '@/lib/use-media-query';
import { useSelection, type Selection } from '@/lib/use-selection';

// folderId: the folder shown (null: the root, "My files").
type FileListProps = { refetchIntervalMs?: number; searchDebounceMs?: number; folderId?: number | null };

// What a Move dialog of files is about: the files, and where they are now
// when that is one place.
type FilesToMove = DraggedFiles & { from?: FolderId };

export function FileList({ refetchIntervalMs, searchDebounceMs = 300, folderId = null }: FileListProps) {
  const [search, setSearch] = useState('');
  const [location, setLocation] = useState<StorageLocation | ''>('');
  const q = useDebouncedValue(search.trim(), searchDebounceMs);
  const [sort, setSort] = useFilesSort();
  // A search looks in every folder; otherwise the list is the open folder's.
  const searching = q !== '';
  const filter: FilesFilter = { q, location, ...sort, ...(searching ? {} : { folder: folderId }) };
  // 0 is what the page gives for an id in the URL that is no number.
  const noSuchFolder = folderId === 0;
  const files = useFiles(filter, refetchIntervalMs, !noSuchFolder);
  const folder = useFolder(folderId);
  const folderName = folderId === null ? ROOT_NAME : (folder.data?.name ?? 'this folder');
  const [creating, setCreating] = useState(false);
  const move = useMoveFiles();
  const updateFolder = useUpdateFolder();
  const [toMove, setToMove] = useState<FilesToMove | null>(null);
  const isDesktop = useMediaQuery('(min-width: 768px)');
  const { notify } = useToast();
  const download = useDownloadFile();
  const remove = useDeleteFile();
  const restore = useRestoreFile();
  const [toDelete, setToDelete] = useState<FileObject | null>(null);
  const [toShare, setToShare] = useState<FileObject | null>(null);
  // The file whose name is being edited in place (Rename, or F2 in its row).
  const [renamingId, setRenamingId] = useState<number | null>(null);
  // After a rename ends, focus goes back to that row's Rename button.
  const [focusRename, setFocusRename] = useState<number | null>(null);
  // After a delete, focus goes to the next row (the previous one at the end,
  // the search when none is left) once the row is gone from the list.
  const [focusAfter, setFocusAfter] = useState<{ gone: number; next: number | null } | null>(null);
  const sectionRef = useRef<HTMLElement>(null);
  // Servers before the trash say nothing: a delete there is final.
  const trashDays = useServerConfig().data?.trash_retention_days ?? 0;
  const hasTrash = trashDays > 0;

  const all = files.data?.pages.flatMap((p) => p.files) ?? [];
  const filtered = q !== '' || location !== '';
  const selection = useSelection(all.map((f) => f.id));
  const bulk = useBulkFiles();
  // How many files the open bulk dialog is about (null: closed), fixed as it opens.
  const [confirmBulk, setConfirmBulk] = useState<number | null>(null);

  useEffect(() => {
    if (!focusAfter || all.some((f) => f.id === focusAfter.gone)) return;
    const section = sectionRef.current;
    const next = focusAfter.next === null ? null : section?.querySelector<HTMLElement>(`[data-file-id="${focusAfter.next}"] button`);
    (next ?? section?.querySelector<HTMLElement>('#file-search'))?.focus();
    setFocusAfter(null);
  }, [all, focusAfter]);

  useEffect(() => {
    if (focusRename === null) return;
    sectionRef.current?.querySelector<HTMLElement>(`[data-file-id="${focusRename}"] [data-action="rename"]`)?.focus();
    setFocusRename(null);
  }, [focusRename]);

  const onRenameDone = (file: FileObject) => {
    setRenamingId(null);
    setFocusRename(file.id);
  };

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
        const i = all.findIndex((f) => f.id === file.id);
        setFocusAfter({ gone: file.id, next: (all[i + 1] ?? all[i - 1])?.id ?? null });
        if (!hasTrash) {
          notify('success', `Deleted ${file.original_filename}`);
          return;
        }
        notify('success', `Moved ${file.original_filename} to the trash`, {
          label: 'Undo',
          onClick: () =>
            restore.mutate(file.id, {
              onSuccess: () => notify('success', `Restored ${file.original_filename}`),
              onError: (err) => {
                const e = toApiError(err);
                notify(
                  'error',
                  e.status === 404
                    ? `${file.original_filename} is gone: it was removed from the trash for good.`
                    : `Could not restore ${file.original_filename}: ${e.message}`,
                );
              },
            }),
        });
      },
      onError: (err) => {
        notify('error', `Could not delete ${file.original_filename}: ${toApiError(err).message}`);
        setToDelete(null);
      },
    });
  };

  // The selected files go to the trash (or, without one, are deleted) in
  // one call; the toast says how many did and which did not, with Undo.
  const onConfirmBulk = () => {
    const names = new Map(all.map((f) => [f.id, f.original_filename]));
    const nameOf = (id: number) => names.get(id) ?? `file ${id}`;
    const ids = all.filter((f) => selection.isSelected(f.id)).map((f) => f.id);
    bulk.mutate(
      { action: 'delete', ids },
      {
        onSuccess: (results) => {
          selection.clear();
          const { ok, message } = bulkSummary(results, hasTrash ? 'Moved {n} to the trash' : 'Deleted {n}', nameOf);
          const kind = ok.length === results.length ? 'success' : ok.length === 0 ? 'error' : 'info';
          if (!hasTrash || ok.length === 0) {
            notify(kind, message);
            return;
          }
          notify(kind, message, {
            label: 'Undo',
            onClick: () =>
              bulk.mutate(
                { action: 'restore', ids: ok },
                {
                  onSuccess: (back) => {
                    const r = bulkSummary(back, 'Restored {n}', nameOf);
                    notify(r.ok.length === back.length ? 'success' : 'error', r.message);
                  },
                  onError: (err) => notify('error', `Could not restore the files: ${toApiError(err).message}`),
                },
              ),
          });
        },
        onError: (err) => notify('error', `Could not delete the selected files: ${toApiError(err).message}`),
        onSettled: () => setConfirmBulk(null),
      },
    );
  };

  // moveFiles moves files into target and says so; a refusal of the whole
  // move is thrown (to the dialog, or a toast).
  const moveFiles = async (moving: DraggedFiles, target: MoveTarget) => {
    const names = new Map(moving.ids.map((id, i) => [id, moving.names[i] ?? `file ${id}`]));
    const results = await move.mutateAsync({ ids: moving.ids, folderId: target.id });
    const { ok, message } = bulkSummary(results, `Moved {n} to ${target.name}`, (id) => names.get(id) ?? `file ${id}`);
    const kind = ok.length === results.length ? 'success' : ok.length === 0 ? 'error' : 'info';
    notify(kind, results.length === 1 && ok.length === 1 ? `Moved ${names.get(ok[0])} to ${target.name}` : message);
  };
  const moveError = (err: unknown, target: MoveTarget) =>
    toApiError(err).code === 'FOLDER_NOT_FOUND' ? `${target.name} is gone: it was deleted or moved to the trash.` : toApiError(err).message;
  // File rows dropped on a folder row or a breadcrumb.
  const onDropFiles = (target: MoveTarget, moving: DraggedFiles) => {
    moveFiles(moving, target).catch((err: unknown) =>
      notify('error', `Could not move ${moving.ids.length === 1 ? moving.names[0] : countText(moving.ids.length)}: ${moveError(err, target)}`),
    );
  };
  // A folder row dropped on another folder (a row, a breadcrumb).
  const onDropFolder = (target: MoveTarget, dragged: DraggedFolder) => {
    updateFolder.mutate(
      { id: dragged.id, parentId: target.id },
      {
        onSuccess: () => notify('success', `Moved folder ${dragged.name} to ${target.name}`),
        onError: (err) =>
          notify('error', `Could not move folder ${dragged.name}: ${folderErrorMessage(err, dragged.name, `in ${target.name}`, true)}`),
      },
    );
  };
  const selectedFiles = () => all.filter((f) => selection.isSelected(f.id));
  const toMoveOf = (list: FileObject[]): FilesToMove => {
    const places = new Set(list.map((f) => f.folder_id ?? null));
    return {
      ids: list.map((f) => f.id),
      names: list.map((f) => f.original_filename),
      // While searching the files may be anywhere; a file says where it is.
      from: searching ? (places.size === 1 && list.every((f) => f.folder_id !== undefined) ? [...places][0] : undefined) : folderId,
    };
  };
  // A drag of a selected row takes every selected row along.
  const onDragStart = (e: DragEvent, f: FileObject) => {
    const list = selection.isSelected(f.id) ? selectedFiles() : [f];
    startDraggingFiles(e.dataTransfer, toMoveOf(list));
  };

  const actions = {
    selection,
    onDownload,
    onDelete: setToDelete,
    onShare: setToShare,
    onRename: (f: FileObject) => setRenamingId(f.id),
    onMove: (f: FileObject) => setToMove(toMoveOf([f])),
    onRenameDone,
    onDragStart,
    renamingId,
    downloadingId: download.isPending ? download.variables?.id : undefined,
  };

  const folderStatus = folderId === null || !folder.isError ? 0 : toApiError(folder.error).status;
  if (noSuchFolder || folderStatus === 404 || folderStatus === 403) {
    return (
      <section aria-labelledby="files-heading" className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
        <h2 id="files-heading" tabIndex={-1} className="text-lg font-semibold focus:outline-none">
          Folder not found
        </h2>
        <div role="alert" className="mt-3 rounded-md border border-amber-300 bg-amber-50 p-4 text-sm text-amber-900">
          <p>This folder does not exist: it may have been deleted or moved to the trash, or the link is wrong.</p>
          <Link to={paths.dashboard.path} className="mt-2 inline-block rounded font-medium text-indigo-700 underline">
            Go to {ROOT_NAME}
          </Link>
        </div>
      </section>
    );
  }

  return (
    <section ref={sectionRef} aria-labelledby="files-heading" className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <h2 id="files-heading" tabIndex={-1} className="min-w-0 text-lg font-semibold break-all focus:outline-none">
          {folderId === null ? 'Your files' : (folder.data?.name ?? 'Folder')}
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
          {!isDesktop && <SortSelect sort={sort} onChange={setSort} />}
        </div>
      </div>

      <div className="mt-3 flex flex-wrap items-center justify-between gap-2">
        <Breadcrumbs path={folderId === null ? [] : folder.data?.path} onDropFiles={onDropFiles} onDropFolder={onDropFolder} />
        {!searching && (
          <Button variant="secondary" size="sm" onClick={() => setCreating(true)} disabled={creating}>
            <span aria-hidden="true">+</span>
            New folder
          </Button>
        )}
      </div>
      {searching ? (
        <p className="mt-2 text-sm text-slate-600">Searching in every folder.</p>
      ) : (
        <FolderList
          parentId={folderId}
          parentName={folderName}
          creating={creating}
          onCreateDone={() => setCreating(false)}
          onDropFiles={onDropFiles}
          onDropFolder={onDropFolder}
        />
      )}

      <BulkBar selection={selection}>
        <Button variant="secondary" size="sm" onClick={() => setToMove(toMoveOf(selectedFiles()))}>
          Move
        </Button>
        <Button variant="danger" size="sm" onClick={() => setConfirmBulk(selection.count)}>
          {hasTrash ? 'Move to trash' : 'Delete'}
        </Button>
      </BulkBar>

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
            {filtered
              ? 'No files match your search.'
              : folderId === null
                ? 'No files yet. Upload your first file above.'
                : 'No files in this folder yet. Upload files above to add them here.'}
          </p>
        ) : isDesktop ? (
          <FileTable files={all} sort={sort} onSort={(key) => setSort(nextFilesSort(sort, key))} {...actions} />
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

      {toMove && (
        <MoveDialog
          title={toMove.ids.length === 1 ? `Move ${toMove.names[0]}` : `Move ${countText(toMove.ids.length)}`}
          from={toMove.from}
          onMove={(target) => moveFiles(toMove, target).then(() => setToMove(null))}
          describeError={moveError}
          onClose={() => setToMove(null)}
        />
      )}

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
      <ConfirmDialog
        open={confirmBulk !== null}
        title={hasTrash ? `Move ${countText(confirmBulk ?? 0)} to the trash?` : `Delete ${countText(confirmBulk ?? 0)}?`}
        confirmLabel={hasTrash ? 'Move to trash' : 'Delete'}
        isPending={bulk.isPending}
        onCancel={() => setConfirmBulk(null)}
        onConfirm={onConfirmBulk}
      >
        {hasTrash
          ? `The selected files go to the trash: you can restore them there for ${trashDays} ${trashDays === 1 ? 'day' : 'days'}.`
          : 'The selected files will be removed from every tier. This cannot be undone.'}
      </ConfirmDialog>
    </section>
  );
}

const countText = (n: number) => (n === 1 ? '1 file' : `${n} files`);

type ItemActions = {
  selection: Selection;
  onDownload: (f: FileObject) => void;
  onDelete: (f: FileObject) => void;
  onShare: (f: FileObject) => void;
  onRename: (f: FileObject) => void;
  onMove: (f: FileObject) => void;
  onRenameDone: (f: FileObject) => void;
  onDragStart: (e: DragEvent, f: FileObject) => void;
  renamingId: number | null;
  downloadingId: number | undefined;
};

// The props of a file's row, in the table and the cards alike: F2 in the
// row renames its file, as in desktop file managers, and the row drags
// (unless its name is being edited).
const fileRowProps = (file: FileObject, actions: ItemActions) => ({
  'data-testid': 'file-row',
  'data-file-id': file.id,
  onKeyDown: (e: KeyboardEvent) => {
    if (e.key !== 'F2' || actions.renamingId === file.id) return;
    e.preventDefault();
    actions.onRename(file);
  },
  draggable: actions.renamingId !== file.id,
  onDragStart: (e: DragEvent) => actions.onDragStart(e, file),
});

function FileActions({
  file,
  onDownload,
  onDelete,
  onShare,
  onRename,
  onMove,
  downloadingId,
}: { file: FileObject } & Omit<ItemActions, 'selection' | 'onRenameDone' | 'renamingId' | 'onDragStart'>) {
  return (
    <div className="flex flex-wrap gap-2">
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
      <Button
        variant="ghost"
        size="sm"
        data-action="rename"
        onClick={() => onRename(file)}
        aria-label={`Rename ${file.original_filename}`}
        aria-keyshortcuts="F2"
      >
        Rename
      </Button>
      <Button variant="ghost" size="sm" onClick={() => onMove(file)} aria-label={`Move ${file.original_filename}`}>
        Move
      </Button>
      <Button variant="ghost" size="sm" className="text-red-700" onClick={() => onDelete(file)} aria-label={`Delete ${file.original_filename}`}>
        Delete
      </Button>
    </div>
  );
}

// The phone layout's sort: the table's headers as one select.
const SORT_CHOICES: { value: FilesSort; label: string }[] = [
  { value: { sort: 'uploaded_at', order: 'desc' }, label: 'Newest first' },
  { value: { sort: 'uploaded_at', order: 'asc' }, label: 'Oldest first' },
  { value: { sort: 'name', order: 'asc' }, label: 'Name, A to Z' },
  { value: { sort: 'name', order: 'desc' }, label: 'Name, Z to A' },
  { value: { sort: 'size', order: 'desc' }, label: 'Largest first' },
  { value: { sort: 'size', order: 'asc' }, label: 'Smallest first' },
];

function SortSelect({ sort, onChange }: { sort: FilesSort; onChange: (s: FilesSort) => void }) {
  const key = (s: FilesSort) => `${s.sort}:${s.order}`;
  return (
    <div>
      <label htmlFor="file-sort" className="sr-only">
        Sort files
      </label>
      <select
        id="file-sort"
        value={key(sort)}
        onChange={(e) => {
          const choice = SORT_CHOICES.find((c) => key(c.value) === e.target.value);
          if (choice) onChange(choice.value);
        }}
        className="rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
      >
        {SORT_CHOICES.map((c) => (
          <option key={key(c.value)} value={key(c.value)}>
            {c.label}
          </option>
        ))}
      </select>
    </div>
  );
}

// SortHeader is a column header that sorts by key: a button inside the
// <th>, whose aria-sort says the column's order while it is the sort.
function SortHeader({
  label,
  sortKey,
  sort,
  onSort,
  className,
}: {
  label: string;
  sortKey: FileSort;
  sort: FilesSort;
  onSort: (key: FileSort) => void;
  className: string;
}) {
  const active = sort.sort === sortKey;
  const ariaSort = active ? (sort.order === 'asc' ? 'ascending' : 'descending') : 'none';
  return (
    <th scope="col" aria-sort={ariaSort} className={`${className} font-medium`}>
      <button
        type="button"
        onClick={() => onSort(sortKey)}
        className={`inline-flex items-center gap-1 rounded uppercase hover:text-slate-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 ${active ? 'text-slate-800' : ''}`}
      >
        {label}
        <span aria-hidden="true" className={active ? '' : 'invisible'}>
          {active && sort.order === 'desc' ? '▼' : '▲'}
        </span>
      </button>
    </th>
  );
}

function FileTable({
  files,
  sort,
  onSort,
  ...actions
}: { files: FileObject[]; sort: FilesSort; onSort: (key: FileSort) => void } & ItemActions) {
  return (
    <table className="w-full text-left text-sm">
      <thead className="border-b border-slate-200 text-xs uppercase text-slate-500">
        <tr>
          <th scope="col" className="w-8 py-2 pr-2">
            <SelectAllCheckbox label="Select all files" selection={actions.selection} />
          </th>
          <SortHeader label="Name" sortKey="name" sort={sort} onSort={onSort} className="py-2 pr-3" />
          <SortHeader label="Size" sortKey="size" sort={sort} onSort={onSort} className="px-3 py-2" />
          <SortHeader label="Uploaded" sortKey="uploaded_at" sort={sort} onSort={onSort} className="px-3 py-2" />
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
          <tr
            key={f.id}
            {...fileRowProps(f, actions)}
          >
            <td className="py-2 pr-2">
              <RowCheckbox id={f.id} label={f.original_filename} selection={actions.selection} />
            </td>
            <td className="max-w-xs truncate py-2 pr-3 font-medium" title={f.original_filename}>
              <FileName file={f} renaming={actions.renamingId === f.id} onRenameDone={() => actions.onRenameDone(f)} />
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
    <>
      <label className="mb-2 flex items-center gap-2 text-sm text-slate-600">
        <SelectAllCheckbox label="Select all files" selection={actions.selection} />
        <span aria-hidden="true">Select all</span>
      </label>
      <ul className="space-y-3" aria-label="Files">
        {files.map((f) => (
          <li
            key={f.id}
            {...fileRowProps(f, actions)}
            className="rounded-md border border-slate-200 p-3"
          >
            <div className="flex items-start justify-between gap-2">
              <div className="flex min-w-0 items-start gap-2">
                <span className="pt-0.5">
                  <RowCheckbox id={f.id} label={f.original_filename} selection={actions.selection} />
                </span>
                <div className="min-w-0 flex-1 font-medium break-all">
                  <FileName file={f} renaming={actions.renamingId === f.id} onRenameDone={() => actions.onRenameDone(f)} />
                </div>
              </div>
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
    </>
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
