import axios from 'axios';

import { api } from '@/lib/api-client';
import { ApiError, toApiError } from '@/lib/api-error';
import type { FileObject, UploadOptions } from '@/features/files/types';

// The presigned multipart flow of SPEC.md, for files larger than one API
// request can carry: create the upload, PUT each part straight to the hot
// tier's presigned URL (collecting each part's ETag), then complete it.
//
// A failure other than a cancel leaves the server's upload in place: the
// parts already stored stay, and resuming (GET the upload: the parts it
// holds and fresh URLs for the missing ones) sends only the rest. Ending an
// upload (DELETE) is the caller's decision: on a user's cancel or discard.

export type PresignedPart = { part_number: number; url: string };
export type StoredPart = { part_number: number; etag: string; size: number };
export type CompletedPart = { part_number: number; etag: string };

// UploadSession is the server's description of a multipart upload: from
// POST /api/files/uploads (every part to send) or GET
// /api/files/uploads/{id} (the parts stored, URLs for the missing ones).
// Servers before the "completed" answer send no status: in progress.
export type UploadSession = {
  upload_id: string;
  status?: 'in_progress';
  part_size: number;
  size: number;
  expires_at: string;
  url_expires_in: number;
  parts: PresignedPart[];
  parts_done?: StoredPart[];
};

// CompletedUpload: GET /api/files/uploads/{id} of an upload that was
// already completed into a file the user still has (its answer may have been
// lost: a gateway timeout, a dropped connection).
export type CompletedUpload = {
  upload_id: string;
  status: 'completed';
  file: FileObject;
};

// CompletingUpload: GET /api/files/uploads/{id} while the server finishes
// an upload the tier has assembled (hash, sniff, record); it comes with
// Retry-After.
export type CompletingUpload = {
  upload_id: string;
  status: 'completing';
  size: number;
};

// UploadState is what GET /api/files/uploads/{id} answers.
export type UploadState = UploadSession | CompletedUpload | CompletingUpload;

export type MultipartOptions = UploadOptions & {
  // Resume this upload of the server instead of starting a new one.
  resumeId?: string | null;
  // The upload the bytes go to, once the server has it (created or resumed).
  onSession?: (session: UploadSession) => void;
  // The upload to resume is gone (expired, aborted): a new one starts.
  onRestart?: (goneId: string) => void;
  // Every byte is on the server, which is finishing the upload (status
  // "completing", or 409 UPLOAD_COMPLETING on complete): it is polled.
  onFinishing?: () => void;
};

// UploadNotResumableError: the server refused to resume the upload (403,
// or another client error that asking again will not change).
export class UploadNotResumableError extends ApiError {
  constructor(cause: ApiError) {
    super(cause.message, cause.status, cause.code, cause.retryAfter);
    this.name = 'UploadNotResumableError';
  }
}

// UploadGoneError: the upload disappeared while the server was finishing it
// (it expired, was aborted, or the finished file was refused or deleted
// since): nothing is left to resume; the file can only be sent again.
export class UploadGoneError extends ApiError {
  constructor(cause: ApiError) {
    super(
      'This upload is no longer on the server: it expired or was discarded, or the server refused the finished file. Retry to upload the file again.',
      cause.status,
      cause.code,
      cause.retryAfter,
    );
    this.name = 'UploadGoneError';
  }
}

// STILL_COMPLETING: the server was still finishing the upload when polling
// gave up; the upload stays on the server for a later resume.
export const STILL_COMPLETING = 'UPLOAD_STILL_COMPLETING';

// How an upload the server is finishing is polled: every Retry-After
// seconds (2 when absent, at most 30), for at most timeoutMs. Tests shorten
// secondMs.
export const finishPolling = { secondMs: 1000, timeoutMs: 120_000, defaultRetryAfter: 2 };

// Parts go to storage, not to our API: no bearer token, no interceptors.
const storage = axios.create();

const PART_CONCURRENCY = 3;
const PART_ATTEMPTS = 3;

export async function createMultipartUpload(
  body: { filename: string; size: number; content_type: string; folder_id?: number },
  signal?: AbortSignal,
): Promise<UploadSession> {
  const { data } = await api.post<UploadSession>('/api/files/uploads', body, { signal });
  return data;
}

export async function getMultipartUpload(uploadId: string, signal?: AbortSignal): Promise<UploadState> {
  return (await getUploadState(uploadId, signal)).state;
}

// getUploadState: the upload and the Retry-After that comes with a
// "completing" answer.
async function getUploadState(uploadId: string, signal?: AbortSignal): Promise<{ state: UploadState; retryAfter: number | null }> {
  const res = await api.get<UploadState>(`/api/files/uploads/${encodeURIComponent(uploadId)}`, { signal });
  const ra = Number(res.headers['retry-after']);
  return { state: res.data, retryAfter: Number.isFinite(ra) && ra > 0 ? ra : null };
}

export async function completeMultipartUpload(uploadId: string, parts: CompletedPart[], signal?: AbortSignal): Promise<FileObject> {
  const { data } = await api.post<FileObject>(`/api/files/uploads/${encodeURIComponent(uploadId)}/complete`, { parts }, { signal });
  return data;
}

export async function abortMultipartUpload(uploadId: string): Promise<void> {
  await api.delete(`/api/files/uploads/${encodeURIComponent(uploadId)}`);
}

// isUploadGone: the server no longer has the upload (expired, aborted,
// removed by its janitor).
export function isUploadGone(err: unknown): boolean {
  const e = toApiError(err);
  return e.status === 404 && e.code === 'UPLOAD_NOT_FOUND';
}

// A client error that no retry will fix; 401 (the session ends, the upload
// does not), 408 and 429 are not such.
function refused(e: ApiError): boolean {
  return e.status >= 400 && e.status < 500 && ![401, 408, 429].includes(e.status);
}

async function putPart(
  url: string,
  body: Blob,
  signal: AbortSignal | undefined,
  onLoaded: (loaded: number) => void,
): Promise<string> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= PART_ATTEMPTS; attempt++) {
    try {
      onLoaded(0);
      const res = await storage.put(url, body, {
        signal,
        headers: { 'Content-Type': 'application/octet-stream' },
        onUploadProgress: (e) => onLoaded(e.loaded),
        transformRequest: [(d: unknown) => d],
      });
      const etag = res.headers['etag'] as string | undefined;
      if (!etag) {
        throw new Error('Storage did not return an ETag for a part (is ETag in the bucket CORS ExposeHeaders?)');
      }
      onLoaded(body.size);
      return etag;
    } catch (err) {
      lastError = err;
      if (signal?.aborted || axios.isCancel(err)) throw err;
      const status = axios.isAxiosError(err) ? err.response?.status : undefined;
      // A 4xx from storage (expired or bad signature) will not heal by retrying.
      if (status !== undefined && status >= 400 && status < 500) break;
    }
  }
  throw lastError;
}

// blockedUploadMessage: what to say when the browser itself stopped a part's
// PUT to the hot tier (no answer at all) while the API answers. Either the
// page is https and the part URL http (mixed content, always blocked), or
// the storage server's CORS does not allow this page's origin (the preflight
// fails). Both are settings, not the user's connection.
export function blockedUploadMessage(partUrl: string, page: { protocol: string; origin: string }): string {
  let storage = partUrl;
  try {
    const u = new URL(partUrl);
    storage = u.origin;
    if (page.protocol === 'https:' && u.protocol === 'http:') {
      return `The browser blocked the upload: this page is https but the storage server (${storage}) is http. Set MINIO_SECURE=true and an https MINIO_PUBLIC_ENDPOINT.`;
    }
  } catch {
    // not a URL: name it as it is
  }
  return `The storage server (${storage}) refused this browser's request: its CORS must allow ${page.origin}. Add the origin to CORS_ORIGINS, or to the hot bucket's CORS (docs/deploy.md).`;
}

// networkFailure: a request that got no answer at all (refused by CORS,
// blocked as mixed content, or a dead connection), not a timeout or cancel.
function networkFailure(err: unknown): boolean {
  return axios.isAxiosError(err) && !err.response && err.code === 'ERR_NETWORK';
}

// explainPartFailure turns a part's failure into the error to show. When no
// part got through and the last one had no answer at all while the API still
// answers, the browser blocked the request: say which setting fixes it,
// instead of "check your connection".
async function explainPartFailure(err: unknown, partUrl: string, anySent: boolean, signal?: AbortSignal): Promise<ApiError> {
  if (anySent || !networkFailure(err) || navigator.onLine === false) return toApiError(err);
  try {
    await api.get('/api/config', { signal });
  } catch {
    return toApiError(err); // the API is out of reach too: the connection
  }
  return new ApiError(blockedUploadMessage(partUrl, window.location), 0, 'STORAGE_BLOCKED');
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const cancelled = () => new ApiError('Cancelled', 0, 'CANCELLED');
    if (signal?.aborted) return reject(cancelled());
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelled());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

// awaitFinished polls GET /api/files/uploads/{id} every Retry-After while
// the server finishes the upload, until it is completed (its file) or, should
// the server have given the finishing up, in progress again. It gives up
// after finishPolling.timeoutMs (STILL_COMPLETING: the upload is kept for a
// later resume); an upload gone meanwhile (404) is an UploadGoneError.
async function awaitFinished(
  uploadId: string,
  retryAfter: number | null,
  { signal, onFinishing }: MultipartOptions,
): Promise<CompletedUpload | UploadSession> {
  onFinishing?.();
  const { secondMs, timeoutMs, defaultRetryAfter } = finishPolling;
  const started = Date.now();
  let wait = retryAfter;
  for (;;) {
    const ms = Math.min(Math.max(wait ?? defaultRetryAfter, 1), 30) * secondMs;
    if (Date.now() - started + ms > timeoutMs) {
      throw new ApiError('The server is still finishing this upload.', 0, STILL_COMPLETING);
    }
    await sleep(ms, signal);
    let answer: { state: UploadState; retryAfter: number | null };
    try {
      answer = await getUploadState(uploadId, signal);
    } catch (err) {
      const e = toApiError(err);
      if (e.status === 404) throw new UploadGoneError(e);
      throw refused(e) ? new UploadNotResumableError(e) : e;
    }
    if (answer.state.status !== 'completing') return answer.state;
    wait = answer.retryAfter;
  }
}

// openSession creates the upload, or finds the one to resume (which may
// turn out to be completed already); an upload that is gone is replaced by a
// new one.
async function openSession(file: File, options: MultipartOptions): Promise<CompletedUpload | UploadSession> {
  const { signal, resumeId, onRestart } = options;
  // The folder is the upload's from its creation on: a resume does not name it.
  const create = () =>
    createMultipartUpload(
      {
        filename: file.name,
        size: file.size,
        content_type: file.type || 'application/octet-stream',
        ...(options.folderId != null ? { folder_id: options.folderId } : {}),
      },
      signal,
    );
  if (!resumeId) return create();
  let session: UploadState;
  let retryAfter: number | null;
  try {
    ({ state: session, retryAfter } = await getUploadState(resumeId, signal));
  } catch (err) {
    const e = toApiError(err);
    if (isUploadGone(e)) {
      onRestart?.(resumeId);
      return create();
    }
    throw refused(e) ? new UploadNotResumableError(e) : e;
  }
  const sizeOf = (s: UploadState) => (s.status === 'completed' ? s.file.file_size : s.size);
  const checkSize = (s: UploadState) => {
    if (sizeOf(s) !== file.size) {
      throw new UploadNotResumableError(
        new ApiError(`The upload on the server is ${sizeOf(s)} bytes, this file ${file.size}.`, 409, 'UPLOAD_MISMATCH'),
      );
    }
  };
  checkSize(session);
  if (session.status === 'completing') {
    // Every byte is there: the server is recording the file.
    options.onProgress?.({ loaded: file.size, total: file.size });
    session = await awaitFinished(resumeId, retryAfter, options);
    checkSize(session);
  }
  return session;
}

// multipartUpload sends file through the multipart flow, or resumes the
// upload options.resumeId: only the parts the server lacks are sent, and
// progress starts at the bytes it already holds. An upload the server has
// already completed (the answer to its completion was lost) ends at once
// with its file: nothing is sent again.
export async function multipartUpload(file: File, options: MultipartOptions = {}): Promise<FileObject> {
  const { signal, onProgress } = options;
  const session = await openSession(file, options);
  if (session.status === 'completed') {
    onProgress?.({ loaded: file.size, total: file.size });
    return session.file;
  }
  options.onSession?.(session);

  const stored = (session.parts_done ?? []).filter((p) => !session.parts.some((q) => q.part_number === p.part_number));
  const storedBytes = stored.reduce((n, p) => n + p.size, 0);
  const loaded = new Map<number, number>();
  const report = () => {
    let sum = storedBytes;
    for (const v of loaded.values()) sum += v;
    onProgress?.({ loaded: Math.min(sum, file.size), total: file.size });
  };
  report();

  // Parts in flight stop at once on a cancel and when the browser goes
  // offline (they cannot finish); after any other failure the parts already
  // on their way may finish, so that a resume need not send them again.
  const parts = new AbortController();
  const stopParts = () => parts.abort();
  let offline = false;
  const onOffline = () => {
    offline = true;
    parts.abort();
  };
  signal?.addEventListener('abort', stopParts);
  window.addEventListener('offline', onOffline);
  if (signal?.aborted) parts.abort();

  const queue = [...session.parts].sort((a, b) => a.part_number - b.part_number);
  const sent: CompletedPart[] = [];
  let failure: unknown = null;
  let failedUrl = '';
  const worker = async () => {
    while (failure === null) {
      const part = queue.shift();
      if (!part) return;
      const n = part.part_number;
      const start = (n - 1) * session.part_size;
      const blob = file.slice(start, Math.min(start + session.part_size, file.size));
      try {
        const etag = await putPart(part.url, blob, parts.signal, (l) => {
          loaded.set(n, l);
          report();
        });
        sent.push({ part_number: n, etag });
      } catch (err) {
        if (failure === null) {
          failure = err;
          failedUrl = part.url;
        }
        // What did not arrive is not on the server: progress shows what is.
        loaded.set(n, 0);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(PART_CONCURRENCY, queue.length) }, worker));
  } finally {
    signal?.removeEventListener('abort', stopParts);
    window.removeEventListener('offline', onOffline);
  }
  if (signal?.aborted) throw new ApiError('Cancelled', 0, 'CANCELLED');
  if (offline) throw new ApiError('You are offline.', 0, 'OFFLINE');
  if (failure !== null) {
    report();
    throw await explainPartFailure(failure, failedUrl, sent.length > 0, signal);
  }

  // Every part, stored before or sent now, once each in ascending order.
  const all = new Map<number, CompletedPart>();
  for (const p of stored) all.set(p.part_number, { part_number: p.part_number, etag: p.etag });
  for (const p of sent) all.set(p.part_number, p);
  const complete = [...all.values()].sort((a, b) => a.part_number - b.part_number);
  try {
    return await completeMultipartUpload(session.upload_id, complete, signal);
  } catch (err) {
    // Another request (an earlier try whose answer was lost) is finishing
    // the upload: wait for its file.
    const e = toApiError(err);
    if (e.code !== 'UPLOAD_COMPLETING') throw e;
    const state = await awaitFinished(session.upload_id, e.retryAfter, options);
    if (state.status === 'completed') return state.file;
    throw new ApiError('The server did not finish the upload.', 0, 'UPLOAD_NOT_FINISHED');
  }
}
