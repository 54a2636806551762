import { http, HttpResponse } from 'msw';

import type { FileObject } from '@/features/files/types';
import {
  completedUploadFile,
  completeUpload,
  db,
  folderPath,
  folderTree,
  publicFile,
  publicFolder,
  trashFolder,
  type MockFolder,
  startSession,
  tokenAnswer,
  tokenClaims,
  trashFile,
  userFromToken,
  type MockUpload,
} from '@/testing/mock-db';

// MSW handlers that behave like the Go API of SPEC.md, over the in-memory db.
// Paths are relative: the app's API base URL is empty (same origin).

export const STORAGE_ORIGIN = 'http://storage.test';

function apiError(status: number, error_code: string, detail: string, headers?: Record<string, string>) {
  return HttpResponse.json({ detail, error_code }, { status, headers });
}

// Passwords the mock server refuses as too common (the real one has a list).
export const COMMON_PASSWORDS = ['password', '12345678', 'password1', 'qwertyuiop'];

function fieldError(field: string, detail: string, status = 400, error_code = 'VALIDATION_ERROR') {
  return HttpResponse.json({ detail, error_code, field }, { status });
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

// findFolder answers like the server: 404 FOLDER_NOT_FOUND when missing (or
// in the trash), 403 when another user's.
function findFolder(id: unknown, userId: number): MockFolder | Response {
  const f = db.folders.find((x) => String(x.id) === String(id));
  if (!f) return apiError(404, 'FOLDER_NOT_FOUND', 'folder not found');
  if (f.owner !== userId) return apiError(403, 'FORBIDDEN', 'not your folder');
  return f;
}

// targetFolder reads where something goes: null (the root) or a live folder
// of the user's.
function targetFolder(raw: unknown, userId: number): number | null | Response {
  if (raw === null || raw === undefined || raw === '' || raw === 'root') return null;
  const f = findFolder(raw, userId);
  return f instanceof Response ? f : f.id;
}

// badFolderName: why name cannot be a folder's, or null.
function badFolderName(name: unknown): Response | null {
  if (typeof name !== 'string' || name.trim() === '') return apiError(400, 'VALIDATION_ERROR', 'name is required');
  // eslint-disable-next-line no-control-regex
  if (/[/\\\u0000-\u001f\u007f]/.test(name)) return apiError(400, 'INVALID_FILENAME', 'name cannot contain / or \\ or control characters');
  if (new TextEncoder().encode(name).length > 255) return apiError(400, 'INVALID_FILENAME', 'name is longer than 255 bytes');
  return null;
}

// nameTaken: a live sibling folder in parentId has name (case-insensitively).
function nameTaken(userId: number, parentId: number | null, name: string, except?: number): boolean {
  return db.folders.some((f) => f.owner === userId && f.parent_id === parentId && f.id !== except && f.name.toLowerCase() === name.toLowerCase());
}

const depthOf = (id: number | null): number => (id === null ? 0 : folderPath(db.folders.find((f) => f.id === id)!).length);

// createFolderAnswer answers POST /api/folders as the server does.
function createFolderAnswer(userId: number, body: { name?: unknown; parent_id?: unknown }): Response {
  const bad = badFolderName(body.name);
  if (bad) return bad;
  const name = body.name as string;
  const parent = targetFolder(body.parent_id, userId);
  if (parent instanceof Response) return parent;
  if (nameTaken(userId, parent, name)) return apiError(409, 'NAME_TAKEN', 'a folder with this name already exists here');
  if (depthOf(parent) + 1 > 64) return apiError(409, 'FOLDER_TOO_DEEP', 'folders nest at most 64 levels');
  const now = new Date().toISOString();
  const folder: MockFolder = { id: db.nextFolderId++, owner: userId, name, parent_id: parent, created_at: now, updated_at: now };
  db.folders.push(folder);
  return HttpResponse.json(publicFolder(folder), { status: 201 });
}

export const handlers = [
  http.get('/api/config', () => HttpResponse.json(db.config)),

  http.get('/api/auth/password-blocklist', () => HttpResponse.json({ passwords: COMMON_PASSWORDS })),

  http.post('/api/auth/signup', async ({ request }) => {
    const { email, password } = (await request.json()) as { email: string; password: string };
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email ?? '')) return fieldError('email', 'invalid email');
    const n = new TextEncoder().encode(password ?? '').length;
    if (n < 8 || n > 72) return fieldError('password', 'password must be 8 to 72 bytes');
    if (COMMON_PASSWORDS.includes(password.toLowerCase())) return fieldError('password', 'password is too common');
    if (db.users.some((u) => u.email.toLowerCase() === email.toLowerCase())) {
      return apiError(409, 'EMAIL_TAKEN', 'email already registered');
    }
    const id = db.nextUserId++;
    const user = { id, email, password, created_at: new Date().toISOString() };
    db.users.push(user);
    // Like login: a session and its cookie.
    return HttpResponse.json(
      { message: 'user created', user_id: id, ...startSession(user, request.headers.get('User-Agent') ?? '').answer },
      { status: 201 },
    );
  }),

  http.post('/api/auth/login', async ({ request }) => {
    const { email, password, totp_code, recovery_code } = (await request.json()) as {
      email: string;
      password: string;
      totp_code?: string;
      recovery_code?: string;
    };
    const user = db.users.find((u) => u.email.toLowerCase() === email.toLowerCase() && u.password === password);
    if (!user) return apiError(401, 'INVALID_CREDENTIALS', 'invalid email or password');
    if (user.totp?.enabled) {
      if (!totp_code && !recovery_code) return apiError(401, 'TOTP_REQUIRED', 'a two-factor code is required');
      const ok = totp_code ? totp_code === user.totp.code : user.totp.recovery.includes(recovery_code ?? '');
      if (!ok) return fieldError(totp_code ? 'totp_code' : 'recovery_code', 'wrong code', 401, 'INVALID_CREDENTIALS');
      if (recovery_code) user.totp.recovery = user.totp.recovery.filter((c) => c !== recovery_code);
    }
    return HttpResponse.json(startSession(user, request.headers.get('User-Agent') ?? '').answer);
  }),

  http.post('/api/auth/refresh', () => {
    const s = db.sessions.find((x) => x.refresh === db.cookie);
    if (!s) return apiError(401, 'UNAUTHORIZED', 'no refresh token');
    if (s.ended) {
      db.cookie = null;
      return apiError(401, s.ended === 'expired' ? 'SESSION_EXPIRED' : 'SESSION_REVOKED', `session ${s.ended}`);
    }
    const user = db.users.find((u) => u.id === s.owner)!;
    s.refresh = `rt-${Math.random().toString(36).slice(2)}`;
    s.last_used_at = new Date().toISOString();
    db.cookie = s.refresh;
    return HttpResponse.json(tokenAnswer(user, s));
  }),

  http.post('/api/auth/logout', async ({ request }) => {
    const claims = tokenClaims(request.headers.get('Authorization'));
    const user = requireUser(request);
    if (!user || !claims) return unauthorized();
    const { scope = 'current' } = ((await request.json().catch(() => ({}))) ?? {}) as { scope?: string };
    for (const s of db.sessions) {
      if (s.owner !== user.id || s.ended) continue;
      const current = s.id === claims.sid;
      if (scope === 'all' || (scope === 'current' && current) || (scope === 'others' && !current)) s.ended = 'revoked';
    }
    if (scope !== 'others') db.cookie = null;
    return new HttpResponse(null, { status: 204 });
  }),

  http.get('/api/auth/sessions', ({ request }) => {
    const claims = tokenClaims(request.headers.get('Authorization'));
    const user = requireUser(request);
    if (!user || !claims) return unauthorized();
    const sessions = db.sessions
      .filter((s) => s.owner === user.id && !s.ended)
      .map((s) => ({
        id: s.id,
        created_at: s.created_at,
        last_used_at: s.last_used_at,
        ip: s.ip,
        user_agent: s.user_agent,
        current: s.id === claims.sid,
      }));
    return HttpResponse.json({ sessions });
  }),

  http.delete('/api/auth/sessions/:id', ({ request, params }) => {
    const user = requireUser(request);
    if (!user) return unauthorized();
    const s = db.sessions.find((x) => String(x.id) === params.id && x.owner === user.id && !x.ended);
    if (!s) return apiError(404, 'SESSION_NOT_FOUND', 'no such session');
    s.ended = 'revoked';
    return new HttpResponse(null, { status: 204 });
  }),

  http.post('/api/auth/password', async ({ request }) => {
    const claims = tokenClaims(request.headers.get('Authorization'));
    const user = requireUser(request);
    if (!user || !claims) return unauthorized();
    const { current_password, new_password } = (await request.json()) as { current_password: string; new_password: string };
    if (current_password !== user.password) return fieldError('current_password', 'wrong password', 401, 'INVALID_CREDENTIALS');
    if (COMMON_PASSWORDS.includes(new_password.toLowerCase())) return fieldError('new_password', 'password is too common');
    user.password = new_password;
    for (const s of db.sessions) if (s.owner === user.id && s.id !== claims.sid && !s.ended) s.ended = 'revoked';
    return new HttpResponse(null, { status: 204 });
  }),

  http.post('/api/auth/password-reset', async ({ request }) => {
    const { email } = (await request.json()) as { email: string };
    db.resetRequests.push(email);
    return new HttpResponse(null, { status: 202 });
  }),

  http.post('/api/auth/password-reset/confirm', async ({ request }) => {
    const { token, new_password } = (await request.json()) as { token: string; new_password: string };
    if (!db.resetToken || token !== db.resetToken.token) return apiError(400, 'RESET_TOKEN_INVALID', 'the link is invalid or has expired');
    if (COMMON_PASSWORDS.includes(new_password.toLowerCase())) return fieldError('new_password', 'password is too common');
    const user = db.users.find((u) => u.email === db.resetToken!.email)!;
    user.password = new_password;
    for (const s of db.sessions) if (s.owner === user.id && !s.ended) s.ended = 'revoked';
    db.resetToken = null;
    return new HttpResponse(null, { status: 204 });
  }),

  http.post('/api/auth/totp/setup', ({ request }) => {
    const user = requireUser(request);
    if (!user) return unauthorized();
    user.totp = { enabled: false, code: '123456', recovery: [] };
    return HttpResponse.json({
      secret: 'JBSWY3DPEHPK3PXP',
      otpauth_uri: `otpauth://totp/Hybrid%20Storage:${encodeURIComponent(user.email)}?secret=JBSWY3DPEHPK3PXP&issuer=Hybrid%20Storage`,
    });
  }),

  http.post('/api/auth/totp/enable', async ({ request }) => {
    const user = requireUser(request);
    if (!user) return unauthorized();
    const { code } = (await request.json()) as { code: string };
    if (!user.totp) return apiError(400, 'VALIDATION_ERROR', 'set up two-factor first');
    if (code !== user.totp.code) return fieldError('code', 'wrong code');
    user.totp.enabled = true;
    user.totp.recovery = Array.from({ length: 10 }, (_, i) => `rc${i}-abcd-efgh`);
    return HttpResponse.json({ recovery_codes: user.totp.recovery });
  }),

  http.post('/api/auth/totp/disable', async ({ request }) => {
    const user = requireUser(request);
    if (!user) return unauthorized();
    const { password, code } = (await request.json()) as { password: string; code: string };
    if (!user.totp?.enabled) return apiError(409, 'TOTP_NOT_ENABLED', 'two-factor login is off');
    if (password !== user.password) return fieldError('password', 'wrong password', 401, 'INVALID_CREDENTIALS');
    if (code !== user.totp.code && !user.totp.recovery.includes(code)) return fieldError('code', 'wrong code', 401, 'INVALID_CREDENTIALS');
    user.totp = undefined;
    return new HttpResponse(null, { status: 204 });
  }),

  http.get('/api/auth/me', ({ request }) => {
    const user = requireUser(request);
    if (!user) return unauthorized();
    return HttpResponse.json({ id: user.id, email: user.email, created_at: user.created_at, totp_enabled: user.totp?.enabled ?? false });
  }),

  http.get('/api/files', ({ request }) => {
    const user = requireUser(request);
    if (!user) return unauthorized();
    const url = new URL(request.url);
    const limit = Number(url.searchParams.get('limit') ?? 50);
    const q = (url.searchParams.get('q') ?? '').toLowerCase();
    const location = url.searchParams.get('location');
    const cursor = url.searchParams.get('cursor');
    // As the API: sort name|size|uploaded_at, order asc|desc (defaults
    // uploaded_at; asc for name, else desc), ties by id; names lowercased,
    // by code point. The cursor names its sort and order.
    const sort = url.searchParams.get('sort') ?? 'uploaded_at';
    if (!['name', 'size', 'uploaded_at'].includes(sort)) return apiError(400, 'VALIDATION_ERROR', 'sort must be name, size or uploaded_at');
    const order = url.searchParams.get('order') ?? (sort === 'name' ? 'asc' : 'desc');
    if (order !== 'asc' && order !== 'desc') return apiError(400, 'VALIDATION_ERROR', 'order must be asc or desc');
    const cmpKey = (a: FileObject, b: FileObject): number => {
      if (sort === 'name') {
        const x = a.original_filename.toLowerCase();
        const y = b.original_filename.toLowerCase();
        return x < y ? -1 : x > y ? 1 : 0;
      }
      if (sort === 'size') return a.file_size - b.file_size;
      return a.uploaded_at.localeCompare(b.uploaded_at);
    };
    const dir = order === 'asc' ? 1 : -1;
    const folderParam = url.searchParams.get('folder_id');
    const folder = folderParam === null ? undefined : targetFolder(folderParam, user.id);
    if (folder instanceof Response) return folder;
    let files = db.files
      .filter((f) => f.owner === user.id)
      .filter((f) => folder === undefined || f.folder_id === folder)
      .filter((f) => !q || f.original_filename.toLowerCase().includes(q))
      .filter((f) => !location || f.storage_location === location)
      .sort((a, b) => dir * (cmpKey(a, b) || a.id - b.id));
    if (cursor) {
      const [cSort, cOrder, cId] = cursor.split(':');
      if (cSort !== sort || cOrder !== order) return apiError(400, 'VALIDATION_ERROR', 'cursor belongs to another sort or order');
      const idx = files.findIndex((f) => String(f.id) === cId);
      files = files.slice(idx + 1);
    }
    const page = files.slice(0, limit);
    const next = files.length > limit ? `${sort}:${order}:${page[page.length - 1].id}` : null;
    return HttpResponse.json({ files: page.map(publicFile), next_cursor: next });
  }),

  http.post('/api/files/upload', async ({ request }) => {
    const user = requireUser(request);
    if (!user) return unauthorized();
    const form = await request.formData();
    db.uploadFields.push([...form.keys()]);
    const file = form.get('file');
    if (!(file instanceof File)) return apiError(400, 'MISSING_FILE', 'no file');
    const folderId = targetFolder(form.get('folder_id'), user.id);
    if (folderId instanceof Response) return folderId;
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
      folder_id: folderId,
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

  http.post('/api/files/bulk', async ({ request }) => {
    const user = requireUser(request);
    if (!user) return unauthorized();
    const body = (await request.json()) as { action?: string; file_ids?: number[]; target_folder_id?: number | null };
    if (body.action !== 'delete' && body.action !== 'restore' && body.action !== 'move') {
      return apiError(400, 'VALIDATION_ERROR', 'action must be delete, restore or move');
    }
    const ids = [...new Set(body.file_ids ?? [])];
    if (ids.length === 0 || ids.length > 1000) return apiError(400, 'VALIDATION_ERROR', 'file_ids must list 1 to 1000 file ids');
    const target = body.action === 'move' ? targetFolder(body.target_folder_id, user.id) : null;
    if (target instanceof Response) return target;
    db.bulkCalls.push({ action: body.action, ids, ...(body.action === 'move' ? { target_folder_id: target } : {}) });
    const notFound = (id: number) => ({ id, status: 'failed', error_code: 'FILE_NOT_FOUND', detail: 'file not found' });
    const results = ids.map((id) => {
      if (body.action === 'move') {
        const f = db.files.find((x) => x.id === id && x.owner === user.id);
        if (!f) return notFound(id);
        f.folder_id = target;
        db.moveCalls.push({ id, folder_id: target });
        return { id, status: 'moved' };
      }
      if (body.action === 'restore') {
        const f = db.trash.find((x) => x.id === id && x.owner === user.id);
        if (!f) return notFound(id);
        db.trash = db.trash.filter((x) => x !== f);
        // eslint-disable-next-line @typescript-eslint/no-unused-vars
        const { deleted_at, purge_at, ...row } = f;
        db.files.push(row);
        return { id, status: 'restored' };
      }
      const f = db.files.find((x) => x.id === id && x.owner === user.id);
      if (!f) return notFound(id);
      if (db.config.trash_retention_days) {
        trashFile(f.id);
        return { id, status: 'trashed' };
      }
      db.files = db.files.filter((x) => x !== f);
      return { id, status: 'deleted' };
    });
    return HttpResponse.json({ results });
  }),

  http.patch('/api/files/:id', async ({ request, params }) => {
    const user = requireUser(request);
    if (!user) return unauthorized();
    const f = db.files.find((x) => String(x.id) === params.id);
    if (!f) return apiError(404, 'FILE_NOT_FOUND', 'file not found');
    if (f.owner !== user.id) return apiError(403, 'FORBIDDEN', 'not your file');
    const body = (await request.json()) as { filename?: unknown; folder_id?: unknown };
    if (body.filename === undefined && !('folder_id' in body)) return apiError(400, 'VALIDATION_ERROR', 'filename or folder_id is required');
    if (body.filename !== undefined && typeof body.filename !== 'string') return apiError(400, 'VALIDATION_ERROR', 'filename must be a string');
    if (typeof body.filename === 'string' && (body.filename === '' || /[/\\]/.test(body.filename))) {
      return apiError(400, 'INVALID_FILENAME', 'filename cannot contain / or \\');
    }
    const target = 'folder_id' in body ? targetFolder(body.folder_id, user.id) : undefined;
    if (target instanceof Response) return target;
    if (typeof body.filename === 'string') {
      db.renameCalls.push({ id: f.id, filename: body.filename });
      f.original_filename = body.filename;
    }
    if (target !== undefined) {
      db.moveCalls.push({ id: f.id, folder_id: target });
      f.folder_id = target;
    }
    return HttpResponse.json(publicFile(f));
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
    const trash =
      sum(db.trash.filter((f) => f.owner === user.id)) +
      sum(db.trashedFolders.filter((t) => t.folder.owner === user.id).flatMap((t) => t.files));
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
    // Files and folders, newest deletion first; a cursor names kind and id.
    const entries = [
      ...db.trash
        .filter((f) => f.owner === user.id)
        .map((f) => ({ key: `file:${f.id}`, id: f.id, deleted_at: f.deleted_at, json: { kind: 'file', ...publicFile(f), deleted_at: f.deleted_at, purge_at: f.purge_at } })),
      ...db.trashedFolders
        .filter((t) => t.folder.owner === user.id)
        .map((t) => ({
          key: `folder:${t.folder.id}`,
          id: t.folder.id,
          deleted_at: t.deleted_at,
          json: {
            kind: 'folder',
            id: t.folder.id,
            name: t.folder.name,
            deleted_at: t.deleted_at,
            purge_at: t.purge_at,
            file_count: t.files.length,
            total_size: t.files.reduce((n, f) => n + f.file_size, 0),
          },
        })),
    ].sort((a, b) => b.deleted_at.localeCompare(a.deleted_at) || b.id - a.id);
    let rest = entries;
    if (cursor) rest = entries.slice(entries.findIndex((e) => e.key === cursor) + 1);
    const page = rest.slice(0, limit);
    const next = rest.length > limit ? page[page.length - 1].key : null;
    return HttpResponse.json({ files: page.map((e) => e.json), next_cursor: next });
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
    db.trashedFolders = db.trashedFolders.filter((t) => t.folder.owner !== user.id);
    return new HttpResponse(null, { status: 204 });
  }),

  http.get('/api/folders', ({ request }) => {
    const user = requireUser(request);
    if (!user) return unauthorized();
    const parent = targetFolder(new URL(request.url).searchParams.get('parent_id'), user.id);
    if (parent instanceof Response) return parent;
    const folders = db.folders
      .filter((f) => f.owner === user.id && f.parent_id === parent)
      .sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : a.name.toLowerCase() > b.name.toLowerCase() ? 1 : a.id - b.id));
    return HttpResponse.json({ folders: folders.map(publicFolder) });
  }),

  http.post('/api/folders', async ({ request }) => {
    const user = requireUser(request);
    if (!user) return unauthorized();
    const body = (await request.json()) as { name?: unknown; parent_id?: unknown };
    const answer = createFolderAnswer(user.id, body);
    db.folderPosts.push({ name: String(body.name), parent_id: (body.parent_id ?? null) as number | null, status: answer.status });
    return answer;
  }),

  http.get('/api/folders/:id', ({ request, params }) => {
    const user = requireUser(request);
    if (!user) return unauthorized();
    const f = findFolder(params.id, user.id);
    if (f instanceof Response) return f;
    return HttpResponse.json({ ...publicFolder(f), path: folderPath(f) });
  }),

  http.patch('/api/folders/:id', async ({ request, params }) => {
    const user = requireUser(request);
    if (!user) return unauthorized();
    const f = findFolder(params.id, user.id);
    if (f instanceof Response) return f;
    const body = (await request.json()) as { name?: unknown; parent_id?: unknown };
    if (body.name !== undefined) {
      const bad = badFolderName(body.name);
      if (bad) return bad;
    }
    const name = body.name === undefined ? f.name : (body.name as string);
    let parent = f.parent_id;
    if ('parent_id' in body) {
      const target = targetFolder(body.parent_id, user.id);
      if (target instanceof Response) return target;
      if (target !== null && folderTree(f).some((x) => x.id === target)) {
        return apiError(409, 'FOLDER_CYCLE', 'a folder cannot move into itself or its subfolders');
      }
      parent = target;
    }
    if (nameTaken(user.id, parent, name, f.id)) return apiError(409, 'NAME_TAKEN', 'a folder with this name already exists here');
    f.name = name;
    f.parent_id = parent;
    f.updated_at = new Date().toISOString();
    return HttpResponse.json(publicFolder(f));
  }),

  http.delete('/api/folders/:id', ({ request, params }) => {
    const user = requireUser(request);
    if (!user) return unauthorized();
    const f = findFolder(params.id, user.id);
    if (f instanceof Response) return f;
    trashFolder(f.id);
    return new HttpResponse(null, { status: 204 });
  }),

  http.post('/api/trash/folders/:id/restore', ({ request, params }) => {
    const user = requireUser(request);
    if (!user) return unauthorized();
    const t = db.trashedFolders.find((x) => String(x.folder.id) === params.id);
    if (!t) return apiError(404, 'FOLDER_NOT_FOUND', 'folder not found');
    if (t.folder.owner !== user.id) return apiError(403, 'FORBIDDEN', 'not your folder');
    // Back into its parent, or the root when that is gone.
    const parent = db.folders.some((x) => x.id === t.folder.parent_id) ? t.folder.parent_id : null;
    if (nameTaken(user.id, parent, t.folder.name)) return apiError(409, 'NAME_TAKEN', 'a folder with this name already exists here');
    t.folder.parent_id = parent;
    db.trashedFolders = db.trashedFolders.filter((x) => x !== t);
    db.folders.push(t.folder, ...t.descendants);
    db.files.push(...t.files);
    return HttpResponse.json(publicFolder(t.folder));
  }),

  http.delete('/api/trash/folders/:id', ({ request, params }) => {
    const user = requireUser(request);
    if (!user) return unauthorized();
    const t = db.trashedFolders.find((x) => String(x.folder.id) === params.id);
    if (!t) return apiError(404, 'FOLDER_NOT_FOUND', 'folder not found');
    if (t.folder.owner !== user.id) return apiError(403, 'FORBIDDEN', 'not your folder');
    db.trashedFolders = db.trashedFolders.filter((x) => x !== t);
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
    for (const s of db.sessions) if (s.owner === user.id) s.ended = 'revoked';
    db.cookie = null;
    return new HttpResponse(null, { status: 204 });
  }),

  http.post('/api/files/uploads', async ({ request }) => {
    const user = requireUser(request);
    if (!user) return unauthorized();
    const body = (await request.json()) as { filename: string; size: number; content_type: string; folder_id?: number | null };
    const folderId = targetFolder(body.folder_id, user.id);
    if (folderId instanceof Response) return folderId;
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
      folder_id: folderId,
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
