import { api } from '@/lib/api-client';
import { multipartUpload, type MultipartOptions } from '@/features/files/api/multipart-upload';
import type { ServerConfig } from '@/lib/server-config';
import type { FileObject, UploadOptions } from '@/features/files/types';

// uploadFile sends one file through the API (multipart/form-data field
// "file"); the server answers 201 with the file object. The folder goes
// first, as field "folder_id": the server streams the body and must know
// where the file goes before its bytes arrive.
export async function uploadFile(file: File, { signal, onProgress, folderId }: UploadOptions = {}): Promise<FileObject> {
  const form = new FormData();
  if (folderId != null) form.append('folder_id', String(folderId));
  form.append('file', file, file.name);
  const { data } = await api.post<FileObject>('/api/files/upload', form, {
    signal,
    // The request body is the multipart envelope, a little larger than the
    // file: report progress in the file's own bytes.
    onUploadProgress: (e) =>
      onProgress?.({
        loaded: e.total ? Math.round((e.loaded / e.total) * file.size) : Math.min(e.loaded, file.size),
        total: file.size,
      }),
  });
  return data;
}

// usesMultipart: large files go through the presigned multipart flow, but
// only when the server offers it (a threshold of 0 means "not available").
export function usesMultipart(file: File, config: ServerConfig | undefined): boolean {
  const threshold = config?.multipart_threshold_bytes ?? 0;
  return threshold > 0 && file.size > threshold;
}

// sendFile: a file to resume goes back to its multipart upload whatever the
// threshold says now.
export function sendFile(file: File, config: ServerConfig | undefined, options: MultipartOptions): Promise<FileObject> {
  return options.resumeId || usesMultipart(file, config) ? multipartUpload(file, options) : uploadFile(file, options);
}
