import type { FileObject, StorageLocation } from '@/features/files/types';
import type { Folder } from '@/features/folders/types';

// A folder and whose it is.
export type MockFolder = Folder & { owner: number };

// A folder deleted with everything in it: one trash entry holding its
// subfolders and their files until restored or purged.
export type TrashedFolderEntry = {
  folder: MockFolder;
  descendants: MockFolder[];
  files: Db['files'];
  deleted_at: string;
  purge_at: string;
};

// An in-memory stand-in for the server's data, reset before every test.
export type MockUser = {
  id: number;
  email: string;
  password: string;
  created_at: string;
  // Two-factor: on, with the one code the mock accepts and the unused
  // recovery codes.
  totp?: { enabled: boolean; code: string; recovery: string[] };
};

// A server-side session: what its access tokens name (sid) and its current
// refresh token (the cookie).
export type MockSession = {
  id: number;
  owner: number;
  refresh: string;
  created_at: string;
  last_used_at: string;
  ip: string;
  user_agent: string;
  ended: 'revoked' | 'expired' | null;
};

type Db = {
  users: MockUser[];
  files: (FileObject & { owner: number; content: Uint8Array; folder_id: number | null })[];
  folders: MockFolder[];
  trashedFolders: TrashedFolderEntry[];
  // The field names of every POST /api/files/upload, in the order sent.
  uploadFields: string[][];
  // Every file move the mock accepted (PATCH folder_id, bulk move).
  moveCalls: { id: number; folder_id: number | null }[];
  // Every POST /api/folders, in the order asked, with the status answered.
  folderPosts: { name: string; parent_id: number | null; status: number }[];
  nextFolderId: number;
  config: {
    max_file_size_bytes: number;
    multipart_threshold_bytes: number;
    download_mode: 'stream' | 'redirect';
    trash_retention_days?: number;
    password?: { min_chars: number; max_bytes: number; blocklist_url: string };
    password_reset?: boolean;
  };
  // Files in the trash (TRASH_RETENTION_DAYS > 0), with when they went there
  // and when they are purged.
  trash: (Db['files'][number] & { deleted_at: string; purge_at: string })[];
  // Every POST /api/files/bulk, as the mock received it (ids deduplicated).
  bulkCalls: { action: string; ids: number[]; target_folder_id?: number | null }[];
  // Every PATCH /api/files/{id} the mock accepted.
  renameCalls: { id: number; filename: string }[];
  nextUserId: number;
  nextFileId: number;
  nextUploadId: number;
  multipart: Map<string, MockUpload>;
  // Uploads completed into a file: upload id → the file's owner and id, as
  // long as the file exists (like the server's record of completions).
  completedUploads: Map<string, { owner: number; fileId: number }>;
  // Uploads the server is finishing (the tier assembled them): GET answers
  // status "completing" polls more times, then the upload ends as then says;
  // complete answers 409 UPLOAD_COMPLETING meanwhile.
  completing: Map<string, { polls: number; then: 'completed' | 'gone' }>;
  sessions: MockSession[];
  // The browser's refresh cookie (HttpOnly: only the mock server sees it).
  cookie: string | null;
  // ACCESS_TOKEN_EXPIRE_MINUTES, in seconds.
  accessTtl: number;
  // Password reset requests (the "mailbox") and the one token that works.
  resetRequests: string[];
  resetToken: { token: string; email: string } | null;
  // The storage quota of every user in bytes (null: unlimited).
  quota: number | null;
  // MAX_OPEN_UPLOADS and MAX_OPEN_UPLOAD_MB (in bytes here) per user.
  uploadCaps: { sessions: number; bytes: number };
};

export type MockUpload = {
  owner: number;
  folder_id?: number | null;
  filename: string;
  size: number;
  content_type: string;
  part_size: number;
  expires_at: string;
  parts: Map<number, Uint8Array>;
};

function defaultConfig(): Db['config'] {
  return {
    max_file_size_bytes: 100 * 1024 * 1024,
    multipart_threshold_bytes: 0,
    download_mode: 'stream',
    password: { min_chars: 8, max_bytes: 72, blocklist_url: '/api/auth/password-blocklist' },
    password_reset: true,
  };
}

export const db: Db = {
  users: [],
  files: [],
  folders: [],
  trashedFolders: [],
  uploadFields: [],
  moveCalls: [],
  folderPosts: [],
  nextFolderId: 1,
  trash: [],
  bulkCalls: [],
  renameCalls: [],
  sessions: [],
  cookie: null,
  accessTtl: 900,
  resetRequests: [],
  resetToken: null,
  quota: null,
  config: defaultConfig(),
  nextUserId: 1,
  nextFileId: 1,
  nextUploadId: 1,
  multipart: new Map(),
  completedUploads: new Map(),
  completing: new Map(),
  uploadCaps: { sessions: 10, bytes: 20480 * 1024 * 1024 },
};

export function resetDb(): void {
  db.users = [];
  db.files = [];
  db.folders = [];
  db.trashedFolders = [];
  db.uploadFields = [];
  db.moveCalls = [];
  db.folderPosts = [];
  db.nextFolderId = 1;
  db.trash = [];
  db.bulkCalls = [];
  db.renameCalls = [];
  db.sessions = [];
  db.cookie = null;
  db.accessTtl = 900;
  db.resetRequests = [];
  db.resetToken = null;
  db.quota = null;
  db.config = defaultConfig();
  db.nextUserId = 1;
  db.nextFileId = 1;
  db.nextUploadId = 1;
  db.multipart = new Map();
  db.completedUploads = new Map();
  db.completing = new Map();
  db.uploadCaps = { sessions: 10, bytes: 20480 * 1024 * 1024 };
}

// addUpload records a multipart upload as if a client had started it and
// sent the parts numbered in done (of content, cut in part_size pieces).
export function addUpload(
  owner: number,
  filename: string,
  content: Uint8Array,
  { partSize, done = [], expiresAt }: { partSize: number; done?: number[]; expiresAt?: string },
): string {
  const id = `up-${db.nextUploadId++}`;
  const parts = new Map<number, Uint8Array>();
  for (const n of done) parts.set(n, content.slice((n - 1) * partSize, n * partSize));
  db.multipart.set(id, {
    owner,
    filename,
    size: content.byteLength,
    content_type: 'application/octet-stream',
    part_size: partSize,
    expires_at: expiresAt ?? new Date(Date.now() + 24 * 3600_000).toISOString(),
    parts,
  });
  return id;
}

// completeUpload does what the server's completion does once the parts are
// checked: the file from the stored parts in order, the session ended, the
// upload id remembered as completed into that file. Tests use it for a
// completion whose answer the client never got.
export function completeUpload(uploadId: string): FileObject {
  const up = db.multipart.get(uploadId);
  if (!up) throw new Error(`no upload ${uploadId}`);
  const chunks = [...up.parts.entries()].sort(([a], [b]) => a - b).map(([, c]) => c);
  const content = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let off = 0;
  for (const c of chunks) {
    content.set(c, off);
    off += c.byteLength;
  }
  const id = db.nextFileId++;
  const row = {
    id,
    owner: up.owner,
    content,
    filename: `user-${up.owner}/uuid-${up.filename}`,
    original_filename: up.filename,
    file_size: content.byteLength,
    content_type: up.content_type,
    storage_location: 'minio' as const,
    storage_class: 'STANDARD',
    access_url: `http://minio.test/hot/${id}`,
    // As the API: a completed multipart upload's checksums are not known until the sync job.
    checksum_sha256: null as string | null,
    checksum_crc64nvme: null as string | null,
    uploaded_at: new Date().toISOString(),
    synced_at: null,
    folder_id: up.folder_id ?? null,
  };
  db.files.push(row);
  db.multipart.delete(uploadId);
  db.completedUploads.set(uploadId, { owner: up.owner, fileId: id });
  return publicFile(row);
}

// completedUploadFile: the file upload id was completed into, while it
// exists.
export function completedUploadFile(uploadId: string): (FileObject & { owner: number }) | null {
  const c = db.completedUploads.get(uploadId);
  if (!c) return null;
  const f = db.files.find((x) => x.id === c.fileId);
  return f ? { ...publicFile(f), owner: f.owner } : null;
}

export function createUser(email = 'ada@example.com', password = 'correct horse battery'): MockUser {
  const user = { id: db.nextUserId++, email, password, created_at: new Date('2026-01-02T03:04:05Z').toISOString() };
  db.users.push(user);
  return user;
}

function b64url(s: string): string {
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

let tokenSerial = 0;

// makeToken builds a JWT-shaped token (unsigned; the mock server trusts it).
// With sid it names a session, which must not have ended.
export function makeToken(userId: number, expMs: number = Date.now() + 24 * 3600_000, sid?: number): string {
  const claims = { sub: String(userId), exp: Math.floor(expMs / 1000), ...(sid ? { sid } : {}), jti: ++tokenSerial };
  return `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}.sig`;
}

export type TokenClaims = { sub: string; exp: number; sid?: number };

export function tokenClaims(authorization: string | null): TokenClaims | null {
  const m = /^Bearer (.+)$/.exec(authorization ?? '');
  if (!m) return null;
  try {
    return JSON.parse(atob(m[1].split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))) as TokenClaims;
  } catch {
    return null;
  }
}

export function userFromToken(authorization: string | null): MockUser | null {
  const payload = tokenClaims(authorization);
  if (!payload || payload.exp * 1000 <= Date.now()) return null;
  if (payload.sid && db.sessions.find((s) => s.id === payload.sid)?.ended !== null) return null;
  return db.users.find((u) => String(u.id) === payload.sub) ?? null;
}

// startSession does what login does on the server: a session, the refresh
// cookie set, and the answer with an access token naming the session.
export function startSession(user: MockUser, userAgent = 'Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0 Safari/537.36') {
  const now = new Date().toISOString();
  const s: MockSession = {
    id: db.sessions.length + 1,
    owner: user.id,
    refresh: `rt-${Math.random().toString(36).slice(2)}`,
    created_at: now,
    last_used_at: now,
    ip: '203.0.113.7',
    user_agent: userAgent,
    ended: null,
  };
  db.sessions.push(s);
  db.cookie = s.refresh;
  return { session: s, answer: tokenAnswer(user, s) };
}

export function tokenAnswer(user: MockUser, s: MockSession) {
  return {
    access_token: makeToken(user.id, Date.now() + db.accessTtl * 1000, s.id),
    token_type: 'bearer' as const,
    expires_in: db.accessTtl,
    user: { id: user.id, email: user.email },
    session_id: s.id,
  };
}

export function addFile(
  owner: number,
  name: string,
  opts: {
    location?: StorageLocation;
    size?: number;
    uploadedAt?: string;
    syncedAt?: string | null;
    content?: Uint8Array;
    checksum?: string | null;
    folderId?: number | null;
  } = {},
): FileObject {
  const id = db.nextFileId++;
  const content = opts.content ?? new TextEncoder().encode(`content of ${name}`);
  const location = opts.location ?? 'minio';
  const file = {
    id,
    owner,
    content,
    filename: `user-${owner}/uuid-${id}-${name}`,
    original_filename: name,
    file_size: opts.size ?? content.byteLength,
    content_type: 'text/plain',
    storage_location: location,
    storage_class: 'STANDARD',
    access_url: `http://${location}.test/bucket/user-${owner}/${id}`,
    checksum_sha256:
      opts.checksum === undefined ? 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' : opts.checksum,
    checksum_crc64nvme: 'AAAAAAAAAAA=' as string | null, // the CRC64NVME of no bytes
    uploaded_at: opts.uploadedAt ?? new Date(Date.UTC(2026, 0, 1, 0, 0, id)).toISOString(),
    synced_at: opts.syncedAt ?? (location === 's3' ? '2026-01-03T00:00:05Z' : null),
    folder_id: opts.folderId ?? null,
  };
  db.files.push(file);
  return publicFile(file);
}

// addFolder makes a folder of owner's, in parentId (null: the root).
export function addFolder(owner: number, name: string, parentId: number | null = null): Folder {
  const now = new Date(Date.UTC(2026, 0, 1, 0, 0, db.nextFolderId)).toISOString();
  const folder: MockFolder = { id: db.nextFolderId++, owner, name, parent_id: parentId, created_at: now, updated_at: now };
  db.folders.push(folder);
  return publicFolder(folder);
}

export function publicFolder(f: MockFolder): Folder {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { owner, ...rest } = f;
  return rest;
}

// folderPath: the folder's path from its top-level folder down to itself.
export function folderPath(f: MockFolder): { id: number; name: string }[] {
  const path: { id: number; name: string }[] = [];
  for (let cur: MockFolder | undefined = f; cur; cur = db.folders.find((x) => x.id === cur!.parent_id)) {
    path.unshift({ id: cur.id, name: cur.name });
  }
  return path;
}

// folderTree: the folder and every live folder below it.
export function folderTree(root: MockFolder): MockFolder[] {
  const out = [root];
  for (let i = 0; i < out.length; i++) out.push(...db.folders.filter((f) => f.parent_id === out[i].id));
  return out;
}

// trashFolder moves folder id with everything in it to the trash, as DELETE
// /api/folders/{id} does.
export function trashFolder(id: number, daysAgo = 0): void {
  const folder = db.folders.find((f) => f.id === id);
  if (!folder) throw new Error(`no folder ${id}`);
  const tree = folderTree(folder);
  const ids = new Set(tree.map((f) => f.id));
  const files = db.files.filter((f) => f.folder_id !== null && ids.has(f.folder_id));
  db.folders = db.folders.filter((f) => !ids.has(f.id));
  db.files = db.files.filter((f) => !files.includes(f));
  const days = db.config.trash_retention_days || 30;
  const deleted = Date.now() - daysAgo * 86_400_000;
  db.trashedFolders.push({
    folder,
    descendants: tree.slice(1),
    files,
    deleted_at: new Date(deleted).toISOString(),
    purge_at: new Date(deleted + days * 86_400_000).toISOString(),
  });
}

export function publicFile(f: Db['files'][number]): FileObject {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { owner, content, ...rest } = f;
  return rest;
}

// trashFile moves file id to the trash, deleted daysAgo days ago with the
// retention of db.config (30 days when unset).
export function trashFile(id: number, daysAgo = 0): void {
  const f = db.files.find((x) => x.id === id);
  if (!f) throw new Error(`no file ${id}`);
  const days = db.config.trash_retention_days || 30;
  const deleted = Date.now() - daysAgo * 86_400_000;
  db.files = db.files.filter((x) => x !== f);
  db.trash.push({ ...f, deleted_at: new Date(deleted).toISOString(), purge_at: new Date(deleted + days * 86_400_000).toISOString() });
}

export function moveToS3(id: number): void {
  const f = db.files.find((x) => x.id === id);
  if (!f) throw new Error(`no file ${id}`);
  f.storage_location = 's3';
  f.synced_at = '2026-01-03T00:00:05Z';
  f.access_url = `http://s3.test/bucket/${f.filename}`;
}
