import axios from 'axios';

import { api } from '@/lib/api-client';
import { toApiError } from '@/lib/api-error';
import type { FileObject, UploadOptions } from '@/features/files/types';

// The presigned multipart flow of SPEC.md, for files larger than one API
// request can carry: create the upload, PUT each part straight to the hot
// tier's presigned URL (collecting each part's ETag), then complete it.

export type PresignedPart = { part_number: number; url: string };
export type CreatedUpload = { upload_id: string; part_size: number; parts: PresignedPart[] };
export type CompletedPart = { part_number: number; etag: string };

// Parts go to storage, not to our API: no bearer token, no interceptors.
const storage = axios.create();

const PART_CONCURRENCY = 3;
const PART_ATTEMPTS = 3;

export async function createMultipartUpload(
  body: { filename: string; size: number; content_type: string },
  signal?: AbortSignal,
): Promise<CreatedUpload> {
  const { data } = await api.post<CreatedUpload>('/api/files/uploads', body, { signal });
  return data;
}

export async function completeMultipartUpload(uploadId: string, parts: CompletedPart[], signal?: AbortSignal): Promise<FileObject> {
  const { data } = await api.post<FileObject>(`/api/files/uploads/${encodeURIComponent(uploadId)}/complete`, { parts }, { signal });
  return data;
}

export async function abortMultipartUpload(uploadId: string): Promise<void> {
  await api.delete(`/api/files/uploads/${encodeURIComponent(uploadId)}`);
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

export async function multipartUpload(file: File, { signal, onProgress }: UploadOptions = {}): Promise<FileObject> {
  const created = await createMultipartUpload(
    { filename: file.name, size: file.size, content_type: file.type || 'application/octet-stream' },
    signal,
  );
  const loaded = new Map<number, number>();
  const report = () => {
    let sum = 0;
    for (const v of loaded.values()) sum += v;
    onProgress?.({ loaded: Math.min(sum, file.size), total: file.size });
  };

  try {
    const queue = [...created.parts].sort((a, b) => a.part_number - b.part_number);
    const done: CompletedPart[] = [];
    const worker = async () => {
      for (let part = queue.shift(); part; part = queue.shift()) {
        const start = (part.part_number - 1) * created.part_size;
        const blob = file.slice(start, Math.min(start + created.part_size, file.size));
        const n = part.part_number;
        const etag = await putPart(part.url, blob, signal, (l) => {
          loaded.set(n, l);
          report();
        });
        done.push({ part_number: n, etag });
      }
    };
    await Promise.all(Array.from({ length: Math.min(PART_CONCURRENCY, queue.length) }, worker));
    done.sort((a, b) => a.part_number - b.part_number);
    return await completeMultipartUpload(created.upload_id, done, signal);
  } catch (err) {
    // Leave nothing half-uploaded behind; the abort is best effort.
    abortMultipartUpload(created.upload_id).catch(() => undefined);
    throw toApiError(err);
  }
}
