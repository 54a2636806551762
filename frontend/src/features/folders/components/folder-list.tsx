import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { Link, useLocation } from 'react-router-dom';

import { Button } from '@/components/ui/button';
import { ConfirmDialog } from '@/components/ui/confirm-dialog';
import { ErrorFallback } from '@/components/ui/error-fallback';
import { InlineNameField } from '@/components/ui/inline-name-field';
import { useToast } from '@/components/ui/toast';
import { folderHref } from '@/config/paths';
import { useCreateFolder, useDeleteFolder, useFolders, useRestoreFolder, useUpdateFolder } from '@/features/folders/api/folders';
import { FolderIcon } from '@/features/folders/components/folder-icon';
import { MoveDialog, type MoveTarget } from '@/features/folders/components/move-dialog';
import type { Folder, FolderId } from '@/features/folders/types';
import { folderErrorMessage, restoreErrorMessage } from '@/features/folders/utils/folder-errors';
import { toApiError } from '@/lib/api-error';
import { startDraggingFolder, stopDraggingFolder, useFileDropTarget, type DraggedFiles, type DraggedFolder } from '@/lib/drag-files';
import { useServerConfig } from '@/lib/server-config';

type FolderListProps = {
  // The folder open (null: the root), named parentName.
  parentId: FolderId;
  parentName: string;
  // The "New folder" field is shown; onCreateDone when it is done.
  creating: boolean;
  onCreateDone: () => void;
  // File rows (and other folders' rows) dropped on a folder move into it.
  onDropFiles: (target: MoveTarget, files: DraggedFiles) => void;
  onDropFolder: (target: MoveTarget, folder: DraggedFolder) => void;
};

// FolderList lists the open folder's subfolders above its files: each opens
// by its name (a link: Enter or a click), and can be renamed in place
// (Rename, or F2 in its row), moved (a dialog, or dragged onto another
// folder) or moved to the trash (with Undo). File rows dropped on a folder
// move into it. The "New folder" field sits at its top.
export function FolderList({ parentId, parentName, creating, onCreateDone, onDropFiles, onDropFolder }: FolderListProps) {
  const folders = useFolders(parentId);
  const create = useCreateFolder();
  const update = useUpdateFolder();
  const remove = useDeleteFolder();
  const restore = useRestoreFolder();
  const { notify } = useToast();
  const trashDays = useServerConfig().data?.trash_retention_days ?? 0;
  const hasTrash = trashDays > 0;
  const [renamingId, setRenamingId] = useState<number | null>(null);
  const [toMove, setToMove] = useState<Folder | null>(null);
  const [toDelete, setToDelete] = useState<Folder | null>(null);
  // After a rename, focus goes back to the row's Rename button; after a
  // new folder, to its name.
  const [focus, setFocus] = useState<{ id: number; what: 'rename' | 'open' } | null>(null);
  // After a delete, focus goes to the next folder (the previous one at the
  // end, the list's heading when none is left) once the row is gone.
  const [focusAfter, setFocusAfter] = useState<{ gone: number; next: number | null } | null>(null);
  const listRef = useRef<HTMLDivElement>(null);
  const list = folders.data ?? [];
  const where = parentId === null ? 'in My files' : `in ${parentName}`;

  useEffect(() => {
    if (!focus) return;
    const row = listRef.current?.querySelector(`[data-folder-id="${focus.id}"]`);
    if (!row) return;
    row.querySelector<HTMLElement>(focus.what === 'rename' ? '[data-action="rename"]' : 'a')?.focus();
    setFocus(null);
  }, [focus, list]);

  useEffect(() => {
    if (!focusAfter || list.some((f) => f.id === focusAfter.gone)) return;
    const next = focusAfter.next === null ? null : listRef.current?.querySelector<HTMLElement>(`[data-folder-id="${focusAfter.next}"] a`);
    (next ?? document.getElementById('files-heading'))?.focus();
    setFocusAfter(null);
  }, [focusAfter, list]);

  const created = useRef<Folder | null>(null);
  const onCreate = async (name: string) => {
    created.current = await create.mutateAsync({ name, parentId });
  };
  const onCreated = (saved: boolean) => {
    onCreateDone();
    const f = created.current;
    created.current = null;
    if (!saved || !f) return;
    notify('success', `Created folder ${f.name}`);
    setFocus({ id: f.id, what: 'open' });
  };

  const onRename = (folder: Folder) => async (name: string) => {
    const f = await update.mutateAsync({ id: folder.id, name });
    notify('success', `Renamed folder ${folder.name} to ${f.name}`);
  };

  const onMove = (folder: Folder) => async (target: MoveTarget) => {
    await update.mutateAsync({ id: folder.id, parentId: target.id });
    setToMove(null);
    notify('success', `Moved folder ${folder.name} to ${target.name}`);
  };

  const onConfirmDelete = () => {
    if (!toDelete) return;
    const folder = toDelete;
    remove.mutate(folder.id, {
      onSuccess: () => {
        setToDelete(null);
        const i = list.findIndex((f) => f.id === folder.id);
        setFocusAfter({ gone: folder.id, next: (list[i + 1] ?? list[i - 1])?.id ?? null });
        if (!hasTrash) {
          notify('success', `Deleted folder ${folder.name}`);
          return;
        }
        notify('success', `Moved folder ${folder.name} to the trash`, {
          label: 'Undo',
          onClick: () =>
            restore.mutate(folder.id, {
              onSuccess: (back) => notify('success', `Restored folder ${back.name}`),
              onError: (err) => notify('error', `Could not restore folder ${folder.name}: ${restoreErrorMessage(err, folder.name)}`),
            }),
        });
      },
      onError: (err) => {
        setToDelete(null);
        notify('error', `Could not delete folder ${folder.name}: ${toApiError(err).message}`);
      },
    });
  };

  if (folders.isError) {
    return (
      <div className="mt-3">
        <ErrorFallback title="Could not load the folders" message={toApiError(folders.error).message} onRetry={() => void folders.refetch()} />
      </div>
    );
  }
  if (list.length === 0 && !creating) return null;

  return (
    <div ref={listRef} className="mt-3">
      <ul aria-label="Folders" className="divide-y divide-slate-100 rounded-md border border-slate-200">
        {creating && (
          <li className="flex items-start gap-2 px-3 py-2">
            <span className="pt-1">
              <FolderIcon />
            </span>
            <InlineNameField
              id="new-folder-name"
              label="Name of the new folder"
              placeholder="Folder name"
              className="max-w-sm flex-1"
              onSave={onCreate}
              onDone={onCreated}
              describeError={(err, name) => folderErrorMessage(err, name, where)}
            />
          </li>
        )}
        {list.map((f) => (
          <FolderRow
            key={f.id}
            folder={f}
            renaming={renamingId === f.id}
            onRename={() => setRenamingId(f.id)}
            onRenameSave={onRename(f)}
            onRenameDone={() => {
              setRenamingId(null);
              setFocus({ id: f.id, what: 'rename' });
            }}
            describeError={(err, name) => folderErrorMessage(err, name, where)}
            onMove={() => setToMove(f)}
            onDelete={() => setToDelete(f)}
            onDropFiles={onDropFiles}
            onDropFolder={onDropFolder}
          />
        ))}
      </ul>

      {toMove && (
        <MoveDialog
          title={`Move folder ${toMove.name}`}
          movingFolderId={toMove.id}
          from={toMove.parent_id}
          onMove={onMove(toMove)}
          describeError={(err, target) => folderErrorMessage(err, toMove.name, `in ${target.name}`, true)}
          onClose={() => setToMove(null)}
        />
      )}

      <ConfirmDialog
        open={toDelete !== null}
        title={hasTrash ? 'Move folder to the trash?' : 'Delete folder?'}
        confirmLabel={hasTrash ? 'Move to trash' : 'Delete'}
        isPending={remove.isPending}
        onCancel={() => setToDelete(null)}
        onConfirm={onConfirmDelete}
      >
        <span className="font-medium break-all">{toDelete?.name}</span>
        {hasTrash
          ? ` and everything in it (its folders and files) go to the trash: you can restore it there for ${trashDays} ${trashDays === 1 ? 'day' : 'days'}.`
          : ' and everything in it (its folders and files) will be removed from every tier. This cannot be undone.'}
      </ConfirmDialog>
    </div>
  );
}

type FolderRowProps = {
  folder: Folder;
  renaming: boolean;
  onRename: () => void;
  onRenameSave: (name: string) => Promise<void>;
  onRenameDone: () => void;
  describeError: (err: unknown, name: string) => string;
  onMove: () => void;
  onDelete: () => void;
  onDropFiles: (target: MoveTarget, files: DraggedFiles) => void;
  onDropFolder: (target: MoveTarget, folder: DraggedFolder) => void;
};

function FolderRow({
  folder,
  renaming,
  onRename,
  onRenameSave,
  onRenameDone,
  describeError,
  onMove,
  onDelete,
  onDropFiles,
  onDropFolder,
}: FolderRowProps) {
  const { search } = useLocation();
  const target = { id: folder.id, name: folder.name };
  const { over, dropProps } = useFileDropTarget((files) => onDropFiles(target, files), {
    onDropFolder: (dragged) => onDropFolder(target, dragged),
    folderId: folder.id,
  });
  // F2 in a row renames its folder, as in desktop file managers.
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key !== 'F2' || renaming) return;
    e.preventDefault();
    onRename();
  };
  return (
    <li
      data-testid="folder-row"
      data-folder-id={folder.id}
      data-drop-target={over || undefined}
      onKeyDown={onKeyDown}
      draggable={!renaming}
      onDragStart={(e) => startDraggingFolder(e.dataTransfer, { id: folder.id, name: folder.name })}
      onDragEnd={stopDraggingFolder}
      {...dropProps}
      className={`flex flex-wrap items-center justify-between gap-2 px-3 py-2 transition-colors ${over ? 'bg-indigo-50 ring-2 ring-indigo-500 ring-inset' : ''}`}
    >
      <div className="flex min-w-0 flex-1 items-center gap-2">
        <FolderIcon />
        {renaming ? (
          <InlineNameField
            id={`rename-folder-${folder.id}`}
            label={`New name for folder ${folder.name}`}
            initial={folder.name}
            className="max-w-sm flex-1"
            onSave={onRenameSave}
            onDone={onRenameDone}
            describeError={describeError}
          />
        ) : (
          <Link
            to={{ pathname: folderHref(folder.id), search }}
            className="min-w-0 truncate rounded font-medium text-slate-900 hover:text-indigo-700 hover:underline focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
            title={folder.name}
          >
            {folder.name}
          </Link>
        )}
      </div>
      <div className="flex flex-wrap gap-2">
        <Button variant="ghost" size="sm" data-action="rename" onClick={onRename} aria-label={`Rename folder ${folder.name}`} aria-keyshortcuts="F2">
          Rename
        </Button>
        <Button variant="ghost" size="sm" onClick={onMove} aria-label={`Move folder ${folder.name}`}>
          Move
        </Button>
        <Button variant="ghost" size="sm" className="text-red-700" onClick={onDelete} aria-label={`Delete folder ${folder.name}`}>
          Delete
        </Button>
      </div>
    </li>
  );
}
