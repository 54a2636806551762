import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { delay, http, HttpResponse } from 'msw';

import {
  blockedUploadMessage,
  completeMultipartUpload,
  finishPolling,
  multipartUpload,
  STILL_COMPLETING,
  UploadGoneError,
  UploadNotResumableError,
  type UploadSession,
} from '@/features/files/api/multipart-upload';
import type { UploadProgress } from '@/features/files/types';
import { addUpload, completeUpload, createUser, db } from '@/testing/mock-db';
import { STORAGE_ORIGIN } from '@/testing/handlers';
import { server } from '@/testing/server';
import { logIn } from '@/testing/test-utils';

const CONTENT = '0123456789abcdefghij'; // 20 bytes: five parts of 4

function bigFile() {
  return new File([CONTENT], 'big.bin', { type: 'application/octet-stream', lastModified: 1_700_000_000_000 });
}

// Records the API and storage requests of a test.
function recordRequests() {
  const seen: string[] = [];
  server.events.on('request:start', ({ request }) => {
    const u = new URL(request.url);
    const part = u.searchParams.get('partNumber');
    seen.push(part ? `PUT part ${part}` : `${request.method} ${u.pathname}`);
  });
  return seen;
}

const putsOf = (seen: string[], n: number) => seen.filter((s) => s === `PUT part ${n}`).length;

describe('multipartUpload, resuming', () => {
  it('sends only the missing parts, completes with every part in order and reports progress from the stored bytes', async () => {
    const user = logIn(createUser());
    const bytes = new TextEncoder().encode(CONTENT);
    const id = addUpload(user.id, 'big.bin', bytes, { partSize: 4, done: [1, 3, 5] });
    const seen = recordRequests();
    let completeBody: unknown = null;
    server.events.on('request:start', async ({ request }) => {
      if (request.url.endsWith('/complete')) completeBody = await request.clone().json();
    });
    const events: UploadProgress[] = [];
    const sessions: UploadSession[] = [];

    const res = await multipartUpload(bigFile(), {
      resumeId: id,
      onProgress: (p) => events.push(p),
      onSession: (s) => sessions.push(s),
    });

    expect(res.original_filename).toBe('big.bin');
    expect(new TextDecoder().decode(db.files[0].content)).toBe(CONTENT);
    expect(sessions.map((s) => s.upload_id)).toEqual([id]);
    expect(seen.filter((s) => s.startsWith('PUT')).sort()).toEqual(['PUT part 2', 'PUT part 4']);
    expect(seen).not.toContain('POST /api/files/uploads');
    expect(completeBody).toEqual({
      parts: [1, 2, 3, 4, 5].map((n) => ({ part_number: n, etag: `"etag-${n}"` })),
    });
    // Parts 1, 3 and 5 hold 4 + 4 + 4 bytes: progress never goes below that.
    expect(events[0]).toEqual({ loaded: 12, total: 20 });
    expect(Math.min(...events.map((e) => e.loaded))).toBe(12);
    expect(events.at(-1)).toEqual({ loaded: 20, total: 20 });
  });

  it('completes at once when every part is already stored', async () => {
    const user = logIn(createUser());
    const id = addUpload(user.id, 'big.bin', new TextEncoder().encode(CONTENT), { partSize: 4, done: [1, 2, 3, 4, 5] });
    const seen = recordRequests();
    await multipartUpload(bigFile(), { resumeId: id });
    expect(seen).toEqual([`GET /api/files/uploads/${id}`, `POST /api/files/uploads/${id}/complete`]);
    expect(db.files).toHaveLength(1);
  });

  it('ends at once with the file when the server already completed the upload (its answer was lost)', async () => {
    const user = logIn(createUser());
    const id = addUpload(user.id, 'big.bin', new TextEncoder().encode(CONTENT), { partSize: 4, done: [1, 2, 3, 4, 5] });
    const file = completeUpload(id);
    const seen = recordRequests();
    const events: UploadProgress[] = [];
    const sessions: UploadSession[] = [];
    const restarted: string[] = [];

    const res = await multipartUpload(bigFile(), {
      resumeId: id,
      onProgress: (p) => events.push(p),
      onSession: (s) => sessions.push(s),
      onRestart: (gone) => restarted.push(gone),
    });

    expect(res).toEqual(file);
    expect(seen).toEqual([`GET /api/files/uploads/${id}`]);
    expect(sessions).toEqual([]);
    expect(restarted).toEqual([]);
    expect(events.at(-1)).toEqual({ loaded: 20, total: 20 });
    expect(db.files).toHaveLength(1);
  });

  it('treats an answer without status as an upload in progress (older servers)', async () => {
    const user = logIn(createUser());
    const id = addUpload(user.id, 'big.bin', new TextEncoder().encode(CONTENT), { partSize: 4, done: [1, 3, 5] });
    server.use(
      http.get('/api/files/uploads/:id', () =>
        HttpResponse.json({
          upload_id: id,
          part_size: 4,
          size: 20,
          expires_at: db.multipart.get(id)!.expires_at,
          url_expires_in: 900,
          parts_done: [1, 3, 5].map((n) => ({ part_number: n, etag: `"etag-${n}"`, size: 4 })),
          parts: [2, 4].map((n) => ({ part_number: n, url: `${STORAGE_ORIGIN}/hot/${id}?partNumber=${n}&X-Amz-Signature=abc` })),
        }),
      ),
    );
    const seen = recordRequests();
    const sessions: string[] = [];

    const res = await multipartUpload(bigFile(), { resumeId: id, onSession: (s) => sessions.push(s.upload_id) });

    expect(res.original_filename).toBe('big.bin');
    expect(sessions).toEqual([id]);
    expect(seen.filter((s) => s.startsWith('PUT')).sort()).toEqual(['PUT part 2', 'PUT part 4']);
    expect(seen.at(-1)).toBe(`POST /api/files/uploads/${id}/complete`);
    expect(new TextDecoder().decode(db.files[0].content)).toBe(CONTENT);
  });

  it('a repeated completion answers 200 with the same file (the first was 201)', async () => {
    const user = logIn(createUser());
    const id = addUpload(user.id, 'big.bin', new TextEncoder().encode(CONTENT), { partSize: 4, done: [1, 2, 3, 4, 5] });
    const statuses: number[] = [];
    server.events.on('response:mocked', ({ request, response }) => {
      if (request.url.endsWith('/complete')) statuses.push(response.status);
    });
    const parts = [1, 2, 3, 4, 5].map((n) => ({ part_number: n, etag: `"etag-${n}"` }));

    const first = await completeMultipartUpload(id, parts);
    const again = await completeMultipartUpload(id, parts);

    expect(again).toEqual(first);
    expect(statuses).toEqual([201, 200]);
    expect(db.files).toHaveLength(1);
  });

  it('starts a new upload when the file the upload was completed into has been deleted since (404)', async () => {
    const user = logIn(createUser());
    const id = addUpload(user.id, 'big.bin', new TextEncoder().encode(CONTENT), { partSize: 4, done: [1, 2, 3, 4, 5] });
    completeUpload(id);
    db.files = [];
    db.config.multipart_threshold_bytes = 4;
    const restarted: string[] = [];
    const seen = recordRequests();

    await multipartUpload(bigFile(), { resumeId: id, onRestart: (gone) => restarted.push(gone) });

    expect(restarted).toEqual([id]);
    expect(seen.slice(0, 2)).toEqual([`GET /api/files/uploads/${id}`, 'POST /api/files/uploads']);
    expect(db.files).toHaveLength(1);
    expect(new TextDecoder().decode(db.files[0].content)).toBe(CONTENT);
  });

  it('refuses a completed upload whose file is not the size of this one', async () => {
    const user = logIn(createUser());
    const id = addUpload(user.id, 'big.bin', new TextEncoder().encode(CONTENT), { partSize: 4, done: [1, 2, 3, 4, 5] });
    completeUpload(id);
    const seen = recordRequests();
    const small = new File(['0123'], 'big.bin', { lastModified: 1_700_000_000_000 });
    const err = await multipartUpload(small, { resumeId: id }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UploadNotResumableError);
    expect(err).toMatchObject({ status: 409, code: 'UPLOAD_MISMATCH' });
    expect(seen).toEqual([`GET /api/files/uploads/${id}`]);
  });

  it('refuses another user’s completed upload (403)', async () => {
    const owner = createUser('owner@example.com');
    logIn(createUser());
    const id = addUpload(owner.id, 'big.bin', new TextEncoder().encode(CONTENT), { partSize: 4, done: [1, 2, 3, 4, 5] });
    completeUpload(id);
    const err = await multipartUpload(bigFile(), { resumeId: id }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UploadNotResumableError);
    expect(err).toMatchObject({ status: 403, code: 'FORBIDDEN' });
  });

  it('after a part fails, lets the parts in flight finish, sends no more, and leaves the upload on the server', async () => {
    logIn(createUser());
    db.config.multipart_threshold_bytes = 4;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    server.use(
      http.put(`${STORAGE_ORIGIN}/hot/:id`, async ({ request }) => {
        const n = new URL(request.url).searchParams.get('partNumber');
        if (n === '1') return new HttpResponse(null, { status: 503 });
        if (n === '2' || n === '3') await gate;
        return undefined;
      }),
    );
    const seen = recordRequests();
    const events: UploadProgress[] = [];
    const done = multipartUpload(bigFile(), { onProgress: (p) => events.push(p) }).catch((e: unknown) => e);
    await expect.poll(() => putsOf(seen, 1)).toBe(3); // three attempts
    await delay(20);
    release();
    const err = await done;

    expect(err).toMatchObject({ status: 503 });
    expect(putsOf(seen, 2)).toBe(1);
    expect(putsOf(seen, 3)).toBe(1);
    expect(putsOf(seen, 4) + putsOf(seen, 5)).toBe(0);
    expect(seen.some((s) => s.startsWith('DELETE'))).toBe(false);
    expect([...db.multipart.get('up-1')!.parts.keys()].sort()).toEqual([2, 3]);
    // What the server holds, not what was attempted.
    expect(events.at(-1)).toEqual({ loaded: 8, total: 20 });
  });

  it('starts a new upload when the one to resume is gone (404 UPLOAD_NOT_FOUND)', async () => {
    logIn(createUser());
    db.config.multipart_threshold_bytes = 4;
    const restarted: string[] = [];
    const sessions: string[] = [];
    const seen = recordRequests();
    await multipartUpload(bigFile(), {
      resumeId: 'up-gone',
      onRestart: (gone) => restarted.push(gone),
      onSession: (s) => sessions.push(s.upload_id),
    });
    expect(restarted).toEqual(['up-gone']);
    expect(sessions).toEqual(['up-1']);
    expect(seen.slice(0, 2)).toEqual(['GET /api/files/uploads/up-gone', 'POST /api/files/uploads']);
    expect(new TextDecoder().decode(db.files[0].content)).toBe(CONTENT);
  });

  it('refuses to resume another user’s upload (403) without starting a new one', async () => {
    const owner = createUser('owner@example.com');
    logIn(createUser());
    const id = addUpload(owner.id, 'big.bin', new TextEncoder().encode(CONTENT), { partSize: 4, done: [1] });
    const seen = recordRequests();
    const err = await multipartUpload(bigFile(), { resumeId: id }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UploadNotResumableError);
    expect(err).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(seen).toEqual([`GET /api/files/uploads/${id}`]);
  });

  it('keeps a resume possible when the server cannot answer (5xx on GET)', async () => {
    logIn(createUser());
    server.use(http.get('/api/files/uploads/:id', () => HttpResponse.json({ detail: 'db down', error_code: 'INTERNAL' }, { status: 503 })));
    const err = await multipartUpload(bigFile(), { resumeId: 'up-1' }).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(UploadNotResumableError);
    expect(err).toMatchObject({ status: 503, message: 'db down' });
  });

  it('stops the parts in flight when the browser goes offline', async () => {
    logIn(createUser());
    db.config.multipart_threshold_bytes = 4;
    server.use(
      http.put(`${STORAGE_ORIGIN}/hot/:id`, async () => {
        await delay('infinite');
        return undefined;
      }),
    );
    const seen = recordRequests();
    const done = multipartUpload(bigFile()).catch((e: unknown) => e);
    await expect.poll(() => seen.filter((s) => s.startsWith('PUT')).length).toBe(3);
    window.dispatchEvent(new Event('offline'));
    expect(await done).toMatchObject({ code: 'OFFLINE' });
    expect(db.multipart.has('up-1')).toBe(true);
    expect(seen.some((s) => s.startsWith('DELETE'))).toBe(false);
  });
});

describe('multipartUpload, an upload the server is finishing', () => {
  // One "second" of Retry-After is 5 ms here.
  const saved = { ...finishPolling };
  beforeEach(() => {
    finishPolling.secondMs = 5;
  });
  afterEach(() => {
    Object.assign(finishPolling, saved);
  });

  // Every API request with the time it started.
  function timedRequests() {
    const seen: { what: string; at: number }[] = [];
    server.events.on('request:start', ({ request }) => {
      const u = new URL(request.url);
      const part = u.searchParams.get('partNumber');
      seen.push({ what: part ? `PUT part ${part}` : `${request.method} ${u.pathname}`, at: performance.now() });
    });
    return seen;
  }

  it('resuming one answered "completing" polls GET every Retry-After until it is completed, and sends nothing', async () => {
    const user = logIn(createUser());
    const id = addUpload(user.id, 'big.bin', new TextEncoder().encode(CONTENT), { partSize: 4, done: [1, 2, 3, 4, 5] });
    db.completing.set(id, { polls: 3, then: 'completed' });
    const seen = timedRequests();
    const events: UploadProgress[] = [];
    let finishing = 0;

    const res = await multipartUpload(bigFile(), {
      resumeId: id,
      onProgress: (p) => events.push(p),
      onFinishing: () => (finishing += 1),
    });

    expect(res).toMatchObject({ original_filename: 'big.bin', file_size: 20 });
    expect(db.files).toHaveLength(1);
    expect(seen.map((s) => s.what)).toEqual(Array(4).fill(`GET /api/files/uploads/${id}`));
    // Retry-After: 2 → 10 ms apart at least.
    for (let i = 1; i < seen.length; i++) expect(seen[i].at - seen[i - 1].at).toBeGreaterThanOrEqual(9);
    expect(finishing).toBe(1);
    expect(events.at(-1)).toEqual({ loaded: 20, total: 20 });
  });

  it('a completion answered 409 UPLOAD_COMPLETING waits for the file through GET', async () => {
    logIn(createUser());
    db.config.multipart_threshold_bytes = 4;
    db.completing.set('up-1', { polls: 2, then: 'completed' });
    const seen = timedRequests();
    let finishing = 0;

    const res = await multipartUpload(bigFile(), { onFinishing: () => (finishing += 1) });

    expect(res).toMatchObject({ original_filename: 'big.bin', file_size: 20 });
    expect(new TextDecoder().decode(db.files[0].content)).toBe(CONTENT);
    const api = seen.map((s) => s.what).filter((w) => !w.startsWith('PUT'));
    expect(api).toEqual([
      'POST /api/files/uploads',
      'POST /api/files/uploads/up-1/complete',
      ...Array(3).fill('GET /api/files/uploads/up-1'),
    ]);
    expect(finishing).toBe(1);
  });

  it('an upload gone while the server finished it (404) is an UploadGoneError, not a fresh upload', async () => {
    const user = logIn(createUser());
    const id = addUpload(user.id, 'big.bin', new TextEncoder().encode(CONTENT), { partSize: 4, done: [1, 2, 3, 4, 5] });
    db.completing.set(id, { polls: 1, then: 'gone' });
    const seen = recordRequests();

    const err = await multipartUpload(bigFile(), { resumeId: id }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(UploadGoneError);
    expect(err).toMatchObject({ status: 404, code: 'UPLOAD_NOT_FOUND' });
    expect(seen).toEqual([`GET /api/files/uploads/${id}`, `GET /api/files/uploads/${id}`]);
    expect(db.multipart.size).toBe(0);
  });

  it('gives up after finishPolling.timeoutMs with STILL_COMPLETING and leaves the upload on the server', async () => {
    finishPolling.timeoutMs = 60; // 10 ms a poll: a few polls
    const user = logIn(createUser());
    const id = addUpload(user.id, 'big.bin', new TextEncoder().encode(CONTENT), { partSize: 4, done: [1, 2, 3, 4, 5] });
    db.completing.set(id, { polls: Infinity, then: 'completed' });
    const seen = recordRequests();

    const err = await multipartUpload(bigFile(), { resumeId: id }).catch((e: unknown) => e);

    expect(err).toMatchObject({ code: STILL_COMPLETING, message: 'The server is still finishing this upload.' });
    expect(err).not.toBeInstanceOf(UploadNotResumableError);
    const polls = seen.filter((s) => s === `GET /api/files/uploads/${id}`).length;
    expect(polls).toBeGreaterThanOrEqual(2);
    expect(polls).toBeLessThanOrEqual(7);
    expect(seen.some((s) => s.startsWith('DELETE'))).toBe(false);
    expect(db.multipart.has(id)).toBe(true);
  });

  it('stops polling at once on a cancel', async () => {
    finishPolling.secondMs = 1000;
    const user = logIn(createUser());
    const id = addUpload(user.id, 'big.bin', new TextEncoder().encode(CONTENT), { partSize: 4, done: [1, 2, 3, 4, 5] });
    db.completing.set(id, { polls: Infinity, then: 'completed' });
    const controller = new AbortController();
    const started = performance.now();

    const pending = multipartUpload(bigFile(), { resumeId: id, signal: controller.signal, onFinishing: () => controller.abort() });

    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('multipartUpload, a part the browser blocks', () => {
  const blockAllParts = () => server.use(http.put(`${STORAGE_ORIGIN}/hot/:id`, () => HttpResponse.error()));

  it('says the storage server refused the request and names the CORS setting, when the API still answers', async () => {
    logIn(createUser());
    db.config.multipart_threshold_bytes = 4;
    blockAllParts();
    const seen = recordRequests();
    const err = await multipartUpload(bigFile()).catch((e: unknown) => e);

    expect(err).toMatchObject({ code: 'STORAGE_BLOCKED', status: 0 });
    const message = (err as Error).message;
    expect(message).toContain(`The storage server (${STORAGE_ORIGIN}) refused this browser's request`);
    expect(message).toContain(`its CORS must allow ${window.location.origin}`);
    expect(message).toContain('CORS_ORIGINS');
    expect(message).not.toMatch(/connection/i);
    // The upload stays for a resume once the setting is fixed.
    expect(db.multipart.has('up-1')).toBe(true);
    expect(seen.some((s) => s.startsWith('DELETE'))).toBe(false);
  });

  it('is a lost connection when the API cannot be reached either', async () => {
    logIn(createUser());
    db.config.multipart_threshold_bytes = 4;
    blockAllParts();
    let created = false;
    server.events.on('response:mocked', ({ request }) => {
      if (request.method === 'POST' && request.url.endsWith('/api/files/uploads')) created = true;
    });
    server.use(http.get('/api/config', () => (created ? HttpResponse.error() : undefined)));
    const err = await multipartUpload(bigFile()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NETWORK_ERROR', message: 'Cannot reach the server. Check your connection.' });
  });

  it('is a lost connection when a part of this upload got through before', async () => {
    logIn(createUser());
    db.config.multipart_threshold_bytes = 4;
    server.use(
      http.put(`${STORAGE_ORIGIN}/hot/:id`, async ({ request }) => {
        if (new URL(request.url).searchParams.get('partNumber') === '1') return undefined;
        await delay(30);
        return HttpResponse.error();
      }),
    );
    const err = await multipartUpload(bigFile()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NETWORK_ERROR' });
  });

  it('names the mixed content settings for an https page and an http storage URL', () => {
    const page = { protocol: 'https:', origin: 'https://files.example.com' };
    expect(blockedUploadMessage('http://minio.example.com:9000/hot/k?partNumber=1', page)).toBe(
      'The browser blocked the upload: this page is https but the storage server (http://minio.example.com:9000) is http. Set MINIO_SECURE=true and an https MINIO_PUBLIC_ENDPOINT.',
    );
    expect(blockedUploadMessage('https://minio.example.com/hot/k?partNumber=1', page)).toBe(
      "The storage server (https://minio.example.com) refused this browser's request: its CORS must allow https://files.example.com. Add the origin to CORS_ORIGINS, or to the hot bucket's CORS (docs/deploy.md).",
    );
    // An http page may use an http tier: that is CORS, not mixed content.
    expect(blockedUploadMessage('http://127.0.0.1:9000/hot/k', { protocol: 'http:', origin: 'http://127.0.0.1:8000' })).toMatch(
      /^The storage server \(http:\/\/127\.0\.0\.1:9000\) refused this browser's request: its CORS must allow http:\/\/127\.0\.0\.1:8000\./,
    );
  });
});
