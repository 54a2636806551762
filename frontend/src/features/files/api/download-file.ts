import { useMutation, useQueryClient } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import { serverConfigQueryOptions, type DownloadMode } from '@/lib/server-config';
import type { FileObject } from '@/features/files/types';

// In stream mode files up to this size come through the API as a blob (same
// origin as the API, the bearer token rides along); larger ones are fetched
// by the browser straight from the tier's presigned URL, which the API hands
// out as JSON because a browser cannot read a 302's Location.
export const BLOB_DOWNLOAD_LIMIT = 50 * 1024 * 1024;

export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

// openUrl lets the browser navigate to a presigned URL: a navigation, not a
// fetch, so the storage server needs no CORS rule for it. The URL carries
// response-content-disposition (attachment, the original name), so the
// browser saves the file and the page stays.
export function openUrl(url: string): void {
  const a = document.createElement('a');
  a.href = url;
  a.rel = 'noopener';
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
}

// usesPresignedUrl: in redirect mode every download is a presigned URL of the
// tier, on another origin: fetching it with an XHR (through the API's 302)
// would need CORS on the bucket, so the browser navigates there instead. The
// same when the mode is unknown (GET /api/config failed): that path works in
// both modes.
export function usesPresignedUrl(file: FileObject, mode: DownloadMode | undefined): boolean {
  return mode !== 'stream' || file.file_size > BLOB_DOWNLOAD_LIMIT;
}

export async function downloadFile(file: FileObject, mode: DownloadMode | undefined): Promise<void> {
  if (usesPresignedUrl(file, mode)) {
    const { data } = await api.get<{ url: string }>(`/api/files/${file.id}/download`, {
      params: { redirect: 1, format: 'json' },
    });
    openUrl(data.url);
    return;
  }
  const { data } = await api.get<Blob>(`/api/files/${file.id}/download`, { responseType: 'blob' });
  saveBlob(data, file.original_filename);
}

export function useDownloadFile() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (file: FileObject) => {
      // The upload form has usually loaded the config already (cached).
      const mode = await queryClient.fetchQuery(serverConfigQueryOptions()).then(
        (c) => c.download_mode ?? 'stream',
        () => undefined,
      );
      return downloadFile(file, mode);
    },
  });
}
