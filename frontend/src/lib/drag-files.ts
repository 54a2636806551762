import { useCallback, useState, type DragEvent } from 'react';

// Dragging file rows of the list onto a folder (a folder row, a
// breadcrumb) moves them there. The rows travel as this type's JSON; a drag
// from the operating system (type "Files") is an upload, never a move, and
// is left to the upload's drop zone.
export const DRAGGED_FILES_TYPE = 'application/x-hybrid-storage-files';

export type DraggedFiles = { ids: number[]; names: string[] };

// A folder row travels as this type's JSON: dropped on another folder (a
// row, a breadcrumb) it moves there.
export const DRAGGED_FOLDER_TYPE = 'application/x-hybrid-storage-folder';

export type DraggedFolder = { id: number; name: string };

// The folder being dragged in this page, if any: a drag's data cannot be
// read before the drop, and a folder is no place to drop itself.
let draggingFolder: number | null = null;

export function startDraggingFolder(dt: DataTransfer, folder: DraggedFolder): void {
  dt.setData(DRAGGED_FOLDER_TYPE, JSON.stringify(folder));
  dt.setData('text/plain', folder.name);
  dt.effectAllowed = 'move';
  draggingFolder = folder.id;
}

export function stopDraggingFolder(): void {
  draggingFolder = null;
}

function carriesFolder(dt: DataTransfer | null): boolean {
  if (!dt) return false;
  const types = Array.from(dt.types ?? []);
  return types.includes(DRAGGED_FOLDER_TYPE) && !types.includes('Files');
}

export function readDraggedFolder(dt: DataTransfer | null): DraggedFolder | null {
  if (!carriesFolder(dt)) return null;
  try {
    const v: unknown = JSON.parse(dt!.getData(DRAGGED_FOLDER_TYPE));
    if (typeof v !== 'object' || v === null) return null;
    const { id, name } = v as Record<string, unknown>;
    if (!Number.isSafeInteger(id) || (id as number) <= 0) return null;
    return { id: id as number, name: typeof name === 'string' ? name : `folder ${id}` };
  } catch {
    return null;
  }
}

// startDraggingFiles puts the rows on the drag (names as text too, for a
// drop elsewhere).
export function startDraggingFiles(dt: DataTransfer, files: DraggedFiles): void {
  dt.setData(DRAGGED_FILES_TYPE, JSON.stringify(files));
  dt.setData('text/plain', files.names.join('\n'));
  dt.effectAllowed = 'move';
}

// carriesFiles: the drag holds rows of the list (and no files of the
// operating system). Only the types can be read before the drop.
export function carriesFiles(dt: DataTransfer | null): boolean {
  if (!dt) return false;
  const types = Array.from(dt.types ?? []);
  return types.includes(DRAGGED_FILES_TYPE) && !types.includes('Files');
}

export function readDraggedFiles(dt: DataTransfer | null): DraggedFiles | null {
  if (!carriesFiles(dt)) return null;
  try {
    const v: unknown = JSON.parse(dt!.getData(DRAGGED_FILES_TYPE));
    if (typeof v !== 'object' || v === null) return null;
    const { ids, names } = v as Record<string, unknown>;
    if (!Array.isArray(ids) || !ids.every((id) => Number.isSafeInteger(id) && (id as number) > 0)) return null;
    const list = Array.isArray(names) ? names.map(String) : [];
    return ids.length > 0 ? { ids: ids as number[], names: list } : null;
  } catch {
    return null;
  }
}

type DropTargetOptions = {
  // Disabled (the folder the rows are in already), it takes nothing.
  enabled?: boolean;
  // A folder row dropped here; none taken without it.
  onDropFolder?: (folder: DraggedFolder) => void;
  // The folder this target is: a folder is not dropped on itself.
  folderId?: number | null;
};

// useFileDropTarget makes an element a place to drop file rows (and, with
// onDropFolder, folder rows) on: over says such a drag is over it now (to
// highlight it).
export function useFileDropTarget(onDrop: (files: DraggedFiles) => void, { enabled = true, onDropFolder, folderId }: DropTargetOptions = {}) {
  const [over, setOver] = useState(false);
  const takes = useCallback(
    (dt: DataTransfer | null) =>
      enabled &&
      (carriesFiles(dt) || (onDropFolder !== undefined && carriesFolder(dt) && (draggingFolder === null || draggingFolder !== folderId))),
    [enabled, onDropFolder, folderId],
  );
  const onDragEnter = useCallback(
    (e: DragEvent<HTMLElement>) => {
      if (!takes(e.dataTransfer)) return;
      e.preventDefault();
      setOver(true);
    },
    [takes],
  );
  const onDragOver = useCallback(
    (e: DragEvent<HTMLElement>) => {
      if (!takes(e.dataTransfer)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'move';
      setOver(true);
    },
    [takes],
  );
  const onDragLeave = useCallback((e: DragEvent<HTMLElement>) => {
    // Moving onto a child of the target is not leaving it.
    if (e.relatedTarget instanceof Node && e.currentTarget.contains(e.relatedTarget)) return;
    setOver(false);
  }, []);
  const onDropEvent = useCallback(
    (e: DragEvent<HTMLElement>) => {
      setOver(false);
      if (!takes(e.dataTransfer)) return;
      const files = readDraggedFiles(e.dataTransfer);
      const folder = files ? null : readDraggedFolder(e.dataTransfer);
      if (!files && !folder) return;
      e.preventDefault();
      e.stopPropagation();
      stopDraggingFolder();
      if (files) onDrop(files);
      else if (folder && folder.id !== folderId) onDropFolder?.(folder);
    },
    [takes, onDrop, onDropFolder, folderId],
  );
  return { over, dropProps: { onDragEnter, onDragOver, onDragLeave, onDrop: onDropEvent } };
}
