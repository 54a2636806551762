import type { FileObject, StorageLocation } from '@/features/files/types';

// An in-memory stand-in for the server's data, reset before every test.
export type MockUser = { id: number; email: string; password: string; created_at: string };

type Db = {
  users: MockUser[];
  files: (FileObject & { owner: number; content: Uint8Array })[];
  config: {
    max_file_size_bytes: number;
    multipart_threshold_bytes: number;
    download_mode: 'stream' | 'redirect';
    trash_retention_days?: number;
  };
  // Files in the trash (TRASH_RETENTION_DAYS > 0), with when they went there
  // and when they are purged.
  trash: (Db['files'][number] & { deleted_at: string; purge_at: string })[];
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
  // The storage quota of every user in bytes (null: unlimited).
  quota: number | null;
  // MAX_OPEN_UPLOADS and MAX_OPEN_UPLOAD_MB (in bytes here) per user.
  uploadCaps: { sessions: number; bytes: number };
};

export type MockUpload = {
  owner: number;
  filename: string;
  size: number;
  content_type: string;
  part_size: number;
  expires_at: string;
  parts: Map<number, Uint8Array>;
};

export const db: Db = {
  users: [],
  files: [],
  trash: [],
  quota: null,
  config: { max_file_size_bytes: 100 * 1024 * 1024, multipart_threshold_bytes: 0, download_mode: 'stream' },
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
  db.trash = [];
  db.quota = null;
  db.config = { max_file_size_bytes: 100 * 1024 * 1024, multipart_threshold_bytes: 0, download_mode: 'stream' };
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

// makeToken builds a JWT-shaped token (unsigned; the mock server trusts it).
export function makeToken(userId: number, expMs: number = Date.now() + 24 * 3600_000): string {
  return `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify({ sub: String(userId), exp: Math.floor(expMs / 1000) }))}.sig`;
}

export function userFromToken(authorization: string | null): MockUser | null {
  const m = /^Bearer (.+)$/.exec(authorization ?? '');
  if (!m) return null;
  try {
    const payload = JSON.parse(atob(m[1].split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))) as { sub: string; exp: number };
    if (payload.exp * 1000 <= Date.now()) return null;
    return db.users.find((u) => String(u.id) === payload.sub) ?? null;
  } catch {
    return null;
  }
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
  };
  db.files.push(file);
  return publicFile(file);
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
