import { toApiError } from '@/lib/api-error';

// folderErrorMessage says why the server refused a folder's name or place,
// in words about this folder: name is the name asked for, where the folder
// it was to go into ("in Projects", "in My files"); moving: it was a move
// (the name is not being chosen).
export function folderErrorMessage(err: unknown, name: string, where: string, moving = false): string {
  const e = toApiError(err);
  switch (e.code) {
    case 'NAME_TAKEN':
      return `There is already a folder named “${name}” ${where}. ${moving ? 'Rename one of them first.' : 'Choose another name.'}`;
    case 'FOLDER_CYCLE':
      return 'A folder cannot go into itself or into one of its own subfolders.';
    case 'FOLDER_TOO_DEEP':
      return 'Folders can be nested at most 64 levels deep.';
    case 'FOLDER_LIMIT':
      return 'You have reached the limit of 10,000 folders. Delete some to make new ones.';
    case 'FOLDER_NOT_FOUND':
      return 'That folder is gone: it was deleted or moved to the trash.';
    case 'INVALID_FILENAME':
      return `“${name}” cannot be a folder name: ${e.message}`;
    default:
      return e.message;
  }
}

// restoreErrorMessage says why a folder could not come back from the trash.
export function restoreErrorMessage(err: unknown, name: string): string {
  const e = toApiError(err);
  if (e.code === 'NAME_TAKEN') return `another folder named “${name}” is where it was. Rename that one first, then restore.`;
  if (e.status === 404) return 'it is no longer in the trash: it was removed for good.';
  return e.message;
}
