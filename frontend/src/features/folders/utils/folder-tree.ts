import { createFolder, getFolders } from '@/features/folders/api/folders';
import type { Folder, FolderId } from '@/features/folders/types';
import { folderErrorMessage } from '@/features/folders/utils/folder-errors';
import { toApiError } from '@/lib/api-error';

// A dropped or chosen folder recreates its tree: each file's relative path
// (webkitRelativePath for the folder picker; the entry's fullPath for a
// drop, which react-dropzone's file-selector keeps as `path`) names the
// folders it goes into below the folder open: `album/day-1/photo.txt` goes
// into album, then day-1 inside it.

// folderPathOf: the folders a file's relative path names, joined by "/"
// ("album/day-1"), or null for a file picked alone (a path of one name, or
// "./name").
export function folderPathOf(file: File): string | null {
  const f = file as File & { path?: unknown; relativePath?: unknown };
  const raw = [f.webkitRelativePath, f.relativePath, f.path].find((p): p is string => typeof p === 'string' && p !== '');
  if (!raw) return null;
  const dirs = splitPath(raw).slice(0, -1);
  return dirs.length > 0 ? dirs.join('/') : null;
}

// splitPath: the names of a path, without empty ones, "." and "..".
export function splitPath(path: string): string[] {
  return path.split('/').filter((s) => s !== '' && s !== '.' && s !== '..');
}

// Where a file goes: folderId, and when a folder of its path could not be
// made, which one and why (the file then goes into the nearest folder that
// exists: its parent, or the folder open).
export type Placement = { folderId: FolderId; missed: { name: string; message: string } | null };

export type FolderTreeOptions = {
  // A folder was made (the folder list shows it).
  onCreated?: (folder: Folder) => void;
  // For tests.
  create?: (a: { name: string; parentId: FolderId }) => Promise<Folder>;
  list?: (parentId: FolderId) => Promise<Folder[]>;
  sleep?: (ms: number) => Promise<void>;
};

export type FolderTree = ReturnType<typeof createFolderTree>;

// A 429 (a gateway's throttling) is waited out this many times before the
// files go into the nearest folder.
const BUSY_TRIES = 5;
const MAX_BUSY_WAIT_MS = 30_000;

// sameName: the server compares sibling names case-insensitively, after
// trimming spaces.
const norm = (name: string) => name.trim().normalize('NFC').toLowerCase();

// createFolderTree makes the folders of one drop: each folder once (by its
// path below its base; files of the same folder wait for the same request),
// parents before children. A folder whose name is taken there (409
// NAME_TAKEN) is the one already there: dropping a folder again adds to it.
// Any other refusal leaves the files of that folder (and of its subfolders)
// in the nearest folder that exists. A failure to reach the server rejects
// (the file fails and can be retried; nothing is remembered of it).
export function createFolderTree(options: FolderTreeOptions = {}) {
  const {
    onCreated,
    create = createFolder,
    list = (parentId: FolderId) => getFolders(parentId),
    sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
  } = options;
  const made = new Map<string, Promise<Placement>>();

  async function make(parentId: FolderId, name: string): Promise<Placement> {
    for (let attempt = 1; ; attempt++) {
      try {
        const folder = await create({ name, parentId });
        onCreated?.(folder);
        return { folderId: folder.id, missed: null };
      } catch (err) {
        const e = toApiError(err);
        if (e.code === 'NAME_TAKEN') {
          const there = await list(parentId).catch((listErr: unknown) => {
            if (unreachable(listErr)) throw listErr;
            return [] as Folder[];
          });
          const found = there.find((f) => f.name === name) ?? there.find((f) => norm(f.name) === norm(name));
          if (found) return { folderId: found.id, missed: null };
        } else if (e.status === 429 && attempt < BUSY_TRIES) {
          await sleep(Math.min((e.retryAfter ?? 1) * 1000 * attempt, MAX_BUSY_WAIT_MS));
          continue;
        } else if (unreachable(err)) {
          throw err;
        } else if (e.code === 'FOLDER_NOT_FOUND') {
          // The folder it was to go into is gone (deleted meanwhile): the
          // upload finds so too and sends the file to My files, and says so.
          return { folderId: parentId, missed: null };
        }
        return { folderId: parentId, missed: { name, message: missedMessage(err, name) } };
      }
    }
  }

  // resolve: the folder of path (names joined by "/") below base.
  function resolve(base: FolderId, path: string | null): Promise<Placement> {
    const names = path ? splitPath(path) : [];
    if (names.length === 0) return Promise.resolve({ folderId: base, missed: null });
    const key = JSON.stringify([base, names.map(norm)]);
    let p = made.get(key);
    if (!p) {
      const name = names[names.length - 1];
      p = resolve(base, names.slice(0, -1).join('/')).then((parent) => (parent.missed ? parent : make(parent.folderId, name)));
      made.set(key, p);
      // Not reached: the next file (or a retry) asks again.
      p.catch(() => made.delete(key));
    }
    return p;
  }

  return { resolve };
}

// unreachable: no answer (offline), or the session ended: nothing is known
// of the folder; asking again later may make it.
function unreachable(err: unknown): boolean {
  const e = toApiError(err);
  return e.status === 0 || e.status === 401;
}

function missedMessage(err: unknown, name: string): string {
  const e = toApiError(err);
  if (e.code === 'FOLDER_TOO_DEEP' || e.code === 'FOLDER_LIMIT') return folderErrorMessage(err, name, '');
  if (e.code === 'NAME_TAKEN') return `The folder “${name}” could not be found.`;
  return `The folder “${name}” could not be created: ${e.message}`;
}
