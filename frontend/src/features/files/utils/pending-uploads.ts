// Unfinished uploads, remembered in localStorage per user so that nothing a
// user picked is lost without a word — not by a reload, a closed tab, a
// crash, nor a session that ended (logout elsewhere, expiry):
//
// - pending uploads: multipart uploads the server holds parts of. Picking
//   the same file again (same name, size and lastModified) resumes the
//   server's session instead of starting over. The server ends a session at
//   its expires_at; entries past that are ignored and pruned.
// - unsent uploads: files picked that are not on the server yet and have no
//   multipart upload (streamed uploads, and large files before their upload
//   is created). Kept UNSENT_DAYS.
//
// The File objects themselves are held in memory for the life of the page
// (holdFile): a browser cannot keep a picked file across page loads. So
// within the page — the session ended and the user logged in again, or
// came back from another page of the app — the uploads go on by themselves;
// after a reload the entries are listed and the user picks the files again.
//
// Everything here is best effort: storage may be full, disabled or hold
// anything at all, and none of that may break the page.

export type PendingUpload = {
  upload_id: string;
  filename: string;
  size: number;
  last_modified: number;
  part_size: number;
  expires_at: string; // RFC 3339, of the server's session
  // The folder the upload goes into (null or absent: the root).
  folder_id?: number | null;
};

// More than this many unfinished uploads is not a real situation; the
// oldest go first so the key cannot grow without bound.
const MAX_ENTRIES = 50;

function storageKey(userId: number): string {
  return `hybrid-storage.pending-uploads.${userId}`;
}

function isEntry(v: unknown): v is PendingUpload {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return (
    typeof e.upload_id === 'string' &&
    e.upload_id !== '' &&
    typeof e.filename === 'string' &&
    typeof e.size === 'number' &&
    Number.isFinite(e.size) &&
    e.size > 0 &&
    typeof e.last_modified === 'number' &&
    Number.isFinite(e.last_modified) &&
    typeof e.part_size === 'number' &&
    Number.isFinite(e.part_size) &&
    e.part_size > 0 &&
    typeof e.expires_at === 'string' &&
    !Number.isNaN(Date.parse(e.expires_at)) &&
    validFolder(e.folder_id)
  );
}

// validFolder: an entry's folder_id, when it has one, is a folder id or null.
function validFolder(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'number' && Number.isSafeInteger(v) && v > 0);
}

function live(e: PendingUpload, now: number): boolean {
  return Date.parse(e.expires_at) > now;
}

function read(userId: number): PendingUpload[] {
  try {
    const raw = window.localStorage.getItem(storageKey(userId));
    if (!raw) return [];
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? parsed.filter(isEntry) : [];
  } catch {
    return [];
  }
}

function write(userId: number, entries: PendingUpload[]): void {
  try {
    if (entries.length === 0) window.localStorage.removeItem(storageKey(userId));
    else window.localStorage.setItem(storageKey(userId), JSON.stringify(entries.slice(-MAX_ENTRIES)));
  } catch {
    // full or disabled storage: the upload still works, it just will not
    // survive a reload
  }
}

// loadPendingUploads returns the user's entries that are well formed and not
// expired.
export function loadPendingUploads(userId: number, now: number = Date.now()): PendingUpload[] {
  return read(userId).filter((e) => live(e, now));
}

// findPendingUpload returns the unexpired entry for this very file, if any:
// same name, size and modification time.
export function findPendingUpload(userId: number, file: File, now: number = Date.now()): PendingUpload | null {
  const matches = loadPendingUploads(userId, now).filter(
    (e) => e.filename === file.name && e.size === file.size && e.last_modified === file.lastModified,
  );
  // The newest session is the likeliest to still hold parts.
  return matches.at(-1) ?? null;
}

// savePendingUpload records (or refreshes) an entry; expired and corrupt
// entries are dropped on the way.
export function savePendingUpload(userId: number, entry: PendingUpload, now: number = Date.now()): void {
  const rest = loadPendingUploads(userId, now).filter((e) => e.upload_id !== entry.upload_id);
  write(userId, [...rest, entry]);
}

export function removePendingUpload(userId: number, uploadId: string, now: number = Date.now()): void {
  releaseFile(userId, uploadId);
  write(
    userId,
    read(userId).filter((e) => e.upload_id !== uploadId && live(e, now)),
  );
}

// --- Unsent uploads -------------------------------------------------------

export type UnsentUpload = {
  id: string;
  filename: string;
  size: number;
  last_modified: number;
  expires_at: string; // RFC 3339: when the entry is forgotten
  // The folder the file was picked in (null or absent: the root).
  folder_id?: number | null;
  // The file came in a dropped or chosen folder whose tree is not made yet:
  // the folders of its relative path ("album/day-1"), to make below
  // folder_id. Absent once its folder is known (folder_id is then that one).
  path?: string;
};

// A folder path longer than this is not a real one (64 levels of 255 bytes
// at most on the server).
const MAX_PATH = 20_000;

export const UNSENT_DAYS = 7;

function unsentKey(userId: number): string {
  return `hybrid-storage.unsent-uploads.${userId}`;
}

function isUnsent(v: unknown): v is UnsentUpload {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return (
    typeof e.id === 'string' &&
    e.id !== '' &&
    typeof e.filename === 'string' &&
    typeof e.size === 'number' &&
    Number.isFinite(e.size) &&
    e.size >= 0 &&
    typeof e.last_modified === 'number' &&
    Number.isFinite(e.last_modified) &&
    typeof e.expires_at === 'string' &&
    !Number.isNaN(Date.parse(e.expires_at)) &&
    validFolder(e.folder_id) &&
    (e.path === undefined || (typeof e.path === 'string' && e.path !== '' && e.path.length <= MAX_PATH))
  );
}

function readUnsent(userId: number): UnsentUpload[] {
  try {
    const raw = window.localStorage.getItem(unsentKey(userId));
    if (!raw) return [];
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? parsed.filter(isUnsent) : [];
  } catch {
    return [];
  }
}

function writeUnsent(userId: number, entries: UnsentUpload[]): void {
  try {
    if (entries.length === 0) window.localStorage.removeItem(unsentKey(userId));
    else window.localStorage.setItem(unsentKey(userId), JSON.stringify(entries.slice(-MAX_ENTRIES)));
  } catch {
    // as write()
  }
}

export function loadUnsentUploads(userId: number, now: number = Date.now()): UnsentUpload[] {
  return readUnsent(userId).filter((e) => Date.parse(e.expires_at) > now);
}

// findUnsentUpload: the entry of this very file, if one is listed.
export function findUnsentUpload(userId: number, file: File, now: number = Date.now()): UnsentUpload | null {
  return (
    loadUnsentUploads(userId, now).find((e) => e.filename === file.name && e.size === file.size && e.last_modified === file.lastModified) ??
    null
  );
}

// saveUnsentUpload records file under id (again: the expiry moves on), to
// go into folderId (null: the root) — or, with path, into the folders of
// path below folderId, still to be made — and holds the file for this page.
export function saveUnsentUpload(
  userId: number,
  id: string,
  file: File,
  now: number = Date.now(),
  folderId: number | null = null,
  path: string | null = null,
): void {
  holdFile(userId, id, file, folderId, path);
  const entry: UnsentUpload = {
    id,
    filename: file.name,
    size: file.size,
    last_modified: file.lastModified,
    expires_at: new Date(now + UNSENT_DAYS * 86_400_000).toISOString(),
    ...(folderId !== null ? { folder_id: folderId } : {}),
    ...(path ? { path } : {}),
  };
  writeUnsent(userId, [...loadUnsentUploads(userId, now).filter((e) => e.id !== id), entry]);
}

// saveUnsentUploads: saveUnsentUpload for many files, with one write (a
// dropped folder). Storage keeps the newest MAX_ENTRIES; the page holds
// every file.
export function saveUnsentUploads(
  userId: number,
  files: { id: string; file: File; folderId?: number | null; path?: string | null }[],
  now: number = Date.now(),
): void {
  const expires = new Date(now + UNSENT_DAYS * 86_400_000).toISOString();
  const ids = new Set(files.map((f) => f.id));
  const entries: UnsentUpload[] = files.map(({ id, file, folderId = null, path = null }) => {
    holdFile(userId, id, file, folderId, path);
    return {
      id,
      filename: file.name,
      size: file.size,
      last_modified: file.lastModified,
      expires_at: expires,
      ...(folderId !== null ? { folder_id: folderId } : {}),
      ...(path ? { path } : {}),
    };
  });
  writeUnsent(userId, [...loadUnsentUploads(userId, now).filter((e) => !ids.has(e.id)), ...entries]);
}

export function removeUnsentUpload(userId: number, id: string, now: number = Date.now()): void {
  releaseFile(userId, id);
  const all = readUnsent(userId);
  const rest = all.filter((e) => e.id !== id && Date.parse(e.expires_at) > now);
  if (rest.length !== all.length) writeUnsent(userId, rest);
}

// onUnfinishedChange: another tab changed this user's entries.
export function onUnfinishedChange(userId: number, listener: () => void): () => void {
  const keys = [storageKey(userId), unsentKey(userId)];
  const onStorage = (e: StorageEvent) => {
    if (e.key === null || keys.includes(e.key)) listener();
  };
  window.addEventListener('storage', onStorage);
  return () => window.removeEventListener('storage', onStorage);
}

// --- File handles, for the life of the page ---------------------------------

const held = new Map<string, File>();
// The folder each held file goes into, when it is not the root.
const heldFolders = new Map<string, number>();
// The folders still to be made below it, for a file of a dropped folder.
const heldPaths = new Map<string, string>();

// holdFile holds file under key; folderId: the folder it goes into (null
// or absent: the root, or a multipart upload that knows its own); path:
// the folders to make below it first (see UnsentUpload.path).
export function holdFile(userId: number, key: string, file: File, folderId: number | null = null, path: string | null = null): void {
  const k = `${userId}/${key}`;
  held.set(k, file);
  if (folderId === null) heldFolders.delete(k);
  else heldFolders.set(k, folderId);
  if (path) heldPaths.set(k, path);
  else heldPaths.delete(k);
}

export function heldFile(userId: number, key: string): File | undefined {
  return held.get(`${userId}/${key}`);
}

// heldFolder: the folder the file held under key goes into (null: the root).
export function heldFolder(userId: number, key: string): number | null {
  return heldFolders.get(`${userId}/${key}`) ?? null;
}

// heldPath: the folders still to be made for the file held under key (null: none).
export function heldPath(userId: number, key: string): string | null {
  return heldPaths.get(`${userId}/${key}`) ?? null;
}

// heldFiles: every file held for userId, by key, in the order they were held.
export function heldFiles(userId: number): [string, File][] {
  const prefix = `${userId}/`;
  return [...held].flatMap(([k, f]): [string, File][] => (k.startsWith(prefix) ? [[k.slice(prefix.length), f]] : []));
}

export function releaseFile(userId: number, key: string): void {
  held.delete(`${userId}/${key}`);
  heldFolders.delete(`${userId}/${key}`);
  heldPaths.delete(`${userId}/${key}`);
}

// releaseAllFiles: for tests (a new "page").
export function releaseAllFiles(): void {
  held.clear();
  heldFolders.clear();
  heldPaths.clear();
}

// --- Uploads under way in some tab ------------------------------------------
// A tab sending an upload holds a Web Lock named after its entry for as long
// as it sends, so that another tab of the same browser does not list it as
// unfinished (and the user does not send it twice). Without Web Locks every
// entry a tab does not hold is listed.

const LOCK_PREFIX = 'hybrid-storage.upload.';

type Locks = {
  request(name: string, callback: () => Promise<void>): Promise<void>;
  query?: () => Promise<{ held?: { name?: string }[] }>;
};

function locks(): Locks | null {
  return typeof navigator !== 'undefined' && navigator.locks ? (navigator.locks as unknown as Locks) : null;
}

// claimUpload holds the lock of key until the returned function is called.
export function claimUpload(userId: number, key: string): () => void {
  const l = locks();
  if (!l) return () => undefined;
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  void l.request(`${LOCK_PREFIX}${userId}.${key}`, () => held).catch(() => undefined);
  return release;
}

// claimedUploads: the keys whose uploads some tab is sending now.
export async function claimedUploads(userId: number): Promise<Set<string>> {
  const l = locks();
  if (!l?.query) return new Set();
  try {
    const { held = [] } = await l.query();
    const prefix = `${LOCK_PREFIX}${userId}.`;
    return new Set(held.flatMap((h) => (h.name?.startsWith(prefix) ? [h.name.slice(prefix.length)] : [])));
  } catch {
    return new Set();
  }
}
