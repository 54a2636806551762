import { http, HttpResponse } from 'msw';

import type { FileObject } from '@/features/files/types';
import { completedUploadFile, completeUpload, db, makeToken, publicFile, trashFile, userFromToken, type MockUpload } from '@/testing/mock-db';

// MSW handlers that behave like the Go API of SPEC.md, over the in-memory db.
// Paths are relative: the app's API base URL is empty (same origin).

export const STORAGE_ORIGIN = 'http://storage.test';

function apiError(status: number, error_code: string, detail: string, headers?: Record<string, string>) {
  return HttpResponse.json({ detail, error_code }, { status, headers });
}

function requireUser(request: Request) {
  return userFromToken(request.headers.get('Authorization'));
}

function unauthorized() {
  return apiError(401, 'UNAUTHORIZED', 'missing or invalid token');
}

function partUrl(uploadId: string, n: number) {
  return `${STORAGE_ORIGIN}/hot/${uploadId}?partNumber=${n}&X-Amz-Signature=abc`;
}

// The upload as the API describes it: the parts stored and fresh URLs for
// the parts numbered in want.
function uploadJson(uploadId: string, up: MockUpload, want: number[]) {
  const done = [...up.parts.entries()]
    .sort(([a], [b]) => a - b)
    .map(([n, bytes]) => ({ part_number: n, etag: `"etag-${n}"`, size: bytes.byteLength }));
  return {
    upload_id: uploadId,
    status: 'in_progress',
    part_size: up.part_size,
    size: up.size,
    expires_at: up.expires_at,
    url_expires_in: 900,
    // Like the Go server (omitempty): no parts_done when none is stored.
    ...(done.length > 0 ? { parts_done: done } : {}),
    parts: want.map((n) => ({ part_number: n, url: partUrl(uploadId, n) })),
  };
}

// findUpload answers like the server: 404 when missing or expired, 403 when
// another user's.
function findUpload(uploadId: string, userId: number): MockUpload | Response {
  const up = db.multipart.get(uploadId);
  if (!up || Date.parse(up.expires_at) <= Date.now()) return apiError(404, 'UPLOAD_NOT_FOUND', 'upload not found');
  if (up.owner !== userId) return apiError(403, 'FORBIDDEN', 'not your upload');
  return up;
}

// findUploadOrFile: an upload in progress, or else the file it was completed
// into (while that file exists); 404 when neither, 403 when another user's.
function findUploadOrFile(uploadId: string, userId: number): MockUpload | FileObject | Response {
  const f = completedUploadFile(uploadId);
  if (!f) return findUpload(uploadId, userId);
  if (f.owner !== userId) return apiError(403, 'FORBIDDEN', 'not your upload');
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { owner, ...file } = f;
  return file;
}

const isMockUpload = (x: MockUpload | FileObject): x is MockUpload => 'parts' in x;

// stillCompleting: the "completing" answer while db.completing says the
// server is finishing the upload; once its polls are used up the upload ends
// (a file, or gone) and null lets the usual answer follow.
function stillCompleting(uploadId: string, userId: number): Response | null {
  const finishing = db.completing.get(uploadId);
  const up = db.multipart.get(uploadId);
  if (!finishing || !up || up.owner !== userId) return null;
  if (finishing.polls > 0) {
    finishing.polls -= 1;
    return HttpResponse.json({ upload_id: uploadId, status: 'completing', size: up.size }, { headers: { 'Retry-After': '2' } });
  }
  db.completing.delete(uploadId);
  if (finishing.then === 'gone') db.multipart.delete(uploadId);
  else completeUpload(uploadId);
  return null;
}

export const handlers = [
  http.get('/api/config', () => HttpResponse.json(db.config)),

  http.post('/api/auth/signup', async ({ request }) => {
    const { email, password } = (await request.json()) as { email: string; password: string };
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email ?? '')) return apiError(400, 'VALIDATION_ERROR', 'invalid email');
    const n = new TextEncoder().encode(password ?? '').length;
    if (n < 8 || n > 72) return apiError(400, 'VALIDATION_ERROR', 'password must be 8 to 72 bytes');
    if (db.users.some((u) => u.email.toLowerCase() === email.toLowerCase())) {
      return apiError(409, 'EMAIL_TAKEN', 'email already registered');
    }
    const id = db.nextUserId++;
    db.users.push({ id, email, password, created_at: new Date().toISOString() });
    return HttpResponse.json({ message: 'user created', user_id: id }, { status: 201 });
  }),

  http.post('/api/auth/login', async ({ request }) => {
    const { email, password } = (await request.json()) as { email: string; password: string };
    const user = db.users.find((u) => u.email.toLowerCase() === email.toLowerCase() && u.password === password);
    if (!user) return apiError(401, 'INVALID_CREDENTIALS', 'invalid email or password');
    return HttpResponse.json({
      access_token: makeToken(user.id),
      token_type: 'bearer',
      expires_in: 86400,
      user: { id: user.id, email: user.email },
    });
  }),

  http.get('/api/auth/me', ({ request }) => {
    const user = requireUser(request);
    if (!user) return unauthorized();
    return HttpResponse.json({ id: user.id, email: user.email, created_at: user.created_at });
  }),

  http.get('/api/files', ({ request }) => {
    const user = requireUser(request);
    if (!user) return unauthorized();
    const url = new URL(request.url);
    const limit = Number(url.searchParams.get('limit') ?? 50);
    const q = (url.searchParams.get('q') ?? '').toLowerCase();
    const location = url.searchParams.get('location');
    const cursor = url.searchParams.get('cursor');
    let files = db.files
      .filter((f) => f.owner === user.id)
      .filter((f) => !q || f.original_filename.toLowerCase().includes(q))
      .filter((f) => !location || f.storage_location === location)
      .sort((a, b) => b.uploaded_at.localeCompare(a.uploaded_at) || b.id - a.id);
    if (cursor) {
      const idx = files.findIndex((f) => String(f.id) === cursor);
      files = files.slice(idx + 1);
    }
    const page = files.slice(0, limit);
    const next = files.length > limit ? String(page[page.length - 1].id) : null;
    return HttpResponse.json({ files: page.map(publicFile), next_cursor: next });
  }),

  http.post('/api/files/upload', async ({ request }) => {
    const user = requireUser(request);
    if (!user) return unauthorized();
    const form = await request.formData();
    const file = form.get('file');
    if (!(file instanceof File)) return apiError(400, 'MISSING_FILE', 'no file');
    if (file.size > db.config.max_file_size_bytes) return apiError(413, 'FILE_TOO_LARGE', 'file too large');
    const content = new Uint8Array(await file.arrayBuffer());
    const id = db.nextFileId++;
    const row = {
      id,
      owner: user.id,
      content,
      filename: `user-${user.id}/uuid-${file.name}`,
      original_filename: file.name,
      file_size: content.byteLength,
      content_type: file.type || 'application/octet-stream',
      storage_location: 'minio' as const,
      storage_class: 'STANDARD',
      access_url: `http://minio.test/hot/user-${user.id}/${id}`,
      checksum_sha256: '0'.repeat(64) as string | null,
      checksum_crc64nvme: 'AAAAAAAAAAA=' as string | null,
      uploaded_at: new Date().toISOString(),
      synced_at: null,
    };
    db.files.push(row);
    return HttpResponse.json(publicFile(row), { status: 201 });
  }),

  http.get('/api/files/:id/download', ({ request, params }) => {
    const user = requireUser(request);
    if (!user) return unauthorized();
    const f = db.files.find((x) => String(x.id) === params.id);
    if (!f) return apiError(404, 'FILE_NOT_FOUND', 'file not found');
    if (f.owner !== user.id) return apiError(403, 'FORBIDDEN', 'not your file');
    const url = new URL(request.url);
    const presigned = `${STORAGE_ORIGIN}/presigned/${f.id}?response-content-disposition=attachment`;
    const redirect = url.searchParams.get('redirect') === '1' || db.config.download_mode === 'redirect';
    if (redirect && url.searchParams.get('format') === 'json') {
      return HttpResponse.json({ url: presigned, expires_in: 900 });
    }
    // Like DOWNLOAD_MODE=redirect: a 302 to the tier's origin, which has no
    // handler here (an XHR following it fails the test).
    if (redirect) return new HttpResponse(null, { status: 302, headers: { Location: presigned } });
    return new HttpResponse(f.content, {
      headers: {
        'Content-Type': f.content_type,
        'Content-Disposition': `attachment; filename="${f.original_filename}"`,
      },
    });
  }),

  http.delete('/api/files/:id', ({ request, params }) => {
    const user = requireUser(request);
    if (!user) return unauthorized();
    const f = db.files.find((x) => String(x.id) === params.id);
    if (!f) return apiError(404, 'FILE_NOT_FOUND', 'file not found');
    if (f.owner !== user.id) return apiError(403, 'FORBIDDEN', 'not your file');
    if (db.config.trash_retention_days) trashFile(f.id);
    else db.files = db.files.filter((x) => x !== f);
    return new HttpResponse(null, { status: 204 });
  }),

  http.get('/api/usage', ({ request }) => {
    const user = requireUser(request);
    if (!user) return unauthorized();
    const mine = db.files.filter((f) => f.owner === user.id);
    const sum = (fs: { file_size: number }[]) => fs.reduce((n, f) => n + f.file_size, 0);
    const hot = sum(mine.filter((f) => f.storage_location === 'minio'));
    const cold = sum(mine.filter((f) => f.storage_location === 's3'));
    const trash = sum(db.trash.filter((f) => f.owner === user.id));
    const uploads = [...db.multipart.values()].filter((u) => u.owner === user.id).reduce((n, u) => n + u.size, 0);
    return HttpResponse.json({
      quota_bytes: db.quota,
      used_bytes: hot + cold + trash + uploads,
      hot_bytes: hot,
      cold_bytes: cold,
      trash_bytes: trash,
      upload_bytes: uploads,
      files: mine.length,
    });
  }),

  http.get('/api/trash', ({ request }) => {
    const user = requireUser(request);
    if (!user) return unauthorized();
    const url = new URL(request.url);
    const limit = Number(url.searchParams.get('limit') ?? 50);
    const cursor = url.searchParams.get('cursor');
    let files = db.trash.filter((f) => f.owner === user.id).sort((a, b) => b.deleted_at.localeCompare(a.deleted_at) || b.id - a.id);
    if (cursor) files = files.slice(files.findIndex((f) => String(f.id) === cursor) + 1);
    const page = files.slice(0, limit);
    const next = files.length > limit ? String(page[page.length - 1].id) : null;
    return HttpResponse.json({
      files: page.map((f) => ({ ...publicFile(f), deleted_at: f.deleted_at, purge_at: f.purge_at })),
      next_cursor: next,
    });
  }),

  http.post('/api/trash/:id/restore', ({ request, params }) => {
    const user = requireUser(request);
    if (!user) return unauthorized();
    const f = db.trash.find((x) => String(x.id) === params.id);
    if (!f) return apiError(404, 'FILE_NOT_FOUND', 'file not found');
    if (f.owner !== user.id) return apiError(403, 'FORBIDDEN', 'not your file');
    db.trash = db.trash.filter((x) => x !== f);
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    const { deleted_at, purge_at, ...row } = f;
    db.files.push(row);
    return HttpResponse.json(publicFile(row));
  }),

  http.delete('/api/trash/:id', ({ request, params }) => {
    const user = requireUser(request);
    if (!user) return unauthorized();
    const f = db.trash.find((x) => String(x.id) === params.id);
    if (!f) return apiError(404, 'FILE_NOT_FOUND', 'file not found');
    if (f.owner !== user.id) return apiError(403, 'FORBIDDEN', 'not your file');
    db.trash = db.trash.filter((x) => x !== f);
    return new HttpResponse(null, { status: 204 });
  }),

  http.delete('/api/trash', ({ request }) => {
    const user = requireUser(request);
    if (!user) return unauthorized();
    db.trash = db.trash.filter((x) => x.owner !== user.id);
    return new HttpResponse(null, { status: 204 });
  }),

  http.delete('/api/auth/me', async ({ request }) => {
    const user = requireUser(request);
    if (!user) return unauthorized();
    const { password } = ((await request.json().catch(() => ({}))) ?? {}) as { password?: string };
    if (typeof password !== 'string') return apiError(400, 'VALIDATION_ERROR', 'password is required');
    if (password !== user.password) return apiError(401, 'INVALID_CREDENTIALS', 'email or password is incorrect');
    db.users = db.users.filter((u) => u !== user);
    db.files = db.files.filter((f) => f.owner !== user.id);
    db.trash = db.trash.filter((f) => f.owner !== user.id);
    return new HttpResponse(null, { status: 204 });
  }),

  http.post('/api/files/uploads', async ({ request }) => {
    const user = requireUser(request);
    if (!user) return unauthorized();
    const body = (await request.json()) as { filename: string; size: number; content_type: string };
    // The caps on a user's open uploads, like the server's checkQuota.
    const open = [...db.multipart.values()].filter((u) => u.owner === user.id && Date.parse(u.expires_at) > Date.now());
    if (open.length + 1 > db.uploadCaps.sessions) {
      return apiError(429, 'TOO_MANY_UPLOADS', 'too many uploads in progress: complete or cancel one first', { 'Retry-After': '60' });
    }
    if (open.reduce((n, u) => n + u.size, 0) + body.size > db.uploadCaps.bytes) {
      return apiError(
        413,
        'UPLOAD_QUOTA_EXCEEDED',
        'the uploads in progress would add up to more than you may upload at once: complete or cancel one first',
      );
    }
    const uploadId = `up-${db.nextUploadId++}`;
    const partSize = Math.max(1, db.config.multipart_threshold_bytes);
    const count = Math.max(1, Math.ceil(body.size / partSize));
    const up = {
      owner: user.id,
      ...body,
      part_size: partSize,
      expires_at: new Date(Date.now() + 24 * 3600_000).toISOString(),
      parts: new Map<number, Uint8Array>(),
    };
    db.multipart.set(uploadId, up);
    return HttpResponse.json(
      uploadJson(
        uploadId,
        up,
        Array.from({ length: count }, (_, i) => i + 1),
      ),
      { status: 201 },
    );
  }),

  http.get('/api/files/uploads/:uploadId', ({ request, params }) => {
    const user = requireUser(request);
    if (!user) return unauthorized();
    const completing = stillCompleting(String(params.uploadId), user.id);
    if (completing) return completing;
    const up = findUploadOrFile(String(params.uploadId), user.id);
    if (up instanceof Response) return up;
    if (!isMockUpload(up)) return HttpResponse.json({ upload_id: String(params.uploadId), status: 'completed', file: up });
    const count = Math.max(1, Math.ceil(up.size / up.part_size));
    const missing = Array.from({ length: count }, (_, i) => i + 1).filter((n) => !up.parts.has(n));
    return HttpResponse.json(uploadJson(String(params.uploadId), up, missing));
  }),

  http.put(`${STORAGE_ORIGIN}/hot/:uploadId`, async ({ request, params }) => {
    if (request.headers.get('Authorization')) return new HttpResponse('bearer token sent to storage', { status: 400 });
    const up = db.multipart.get(String(params.uploadId));
    if (!up) return new HttpResponse(null, { status: 404 });
    const n = Number(new URL(request.url).searchParams.get('partNumber'));
    up.parts.set(n, new Uint8Array(await request.arrayBuffer()));
    return new HttpResponse(null, { status: 200, headers: { ETag: `"etag-${n}"` } });
  }),

  http.post('/api/files/uploads/:uploadId/complete', async ({ request, params }) => {
    const user = requireUser(request);
    if (!user) return unauthorized();
    const up = findUploadOrFile(String(params.uploadId), user.id);
    if (up instanceof Response) return up;
    // Completed before (its answer may have been lost): the same file, 200.
    if (!isMockUpload(up)) return HttpResponse.json(up);
    if (db.completing.has(String(params.uploadId))) {
      return apiError(409, 'UPLOAD_COMPLETING', 'the upload is being completed; ask again in a few seconds', { 'Retry-After': '2' });
    }
    const { parts } = (await request.json()) as { parts: { part_number: number; etag: string }[] };
    const count = Math.max(1, Math.ceil(up.size / up.part_size));
    if (parts.length !== count || parts.some((p, i) => p.part_number !== i + 1)) {
      return apiError(400, 'VALIDATION_ERROR', 'parts must be listed once each in ascending order from 1');
    }
    for (const p of parts) {
      if (p.etag !== `"etag-${p.part_number}"` || !up.parts.has(p.part_number)) {
        return apiError(400, 'VALIDATION_ERROR', `bad part ${p.part_number}`);
      }
    }
    return HttpResponse.json(completeUpload(String(params.uploadId)), { status: 201 });
  }),

  http.delete('/api/files/uploads/:uploadId', ({ request, params }) => {
    const user = requireUser(request);
    if (!user) return unauthorized();
    const up = findUpload(String(params.uploadId), user.id);
    if (up instanceof Response) return up;
    db.multipart.delete(String(params.uploadId));
    return new HttpResponse(null, { status: 204 });
  }),

  http.get('/api/sync/status', ({ request }) => {
    const user = requireUser(request);
    if (!user) return unauthorized();
    const pending = db.files.filter((f) => f.owner === user.id && f.storage_location === 'minio').length;
    return HttpResponse.json({
      last_run: { started_at: '2026-01-03T00:00:00Z', finished_at: '2026-01-03T00:00:07Z', synced: 4, failed: 1 },
      pending,
    });
  }),
];
