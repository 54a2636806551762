import { useMutation } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import type { FileObject } from '@/features/files/types';

// Files up to this size come through the API as a blob (the bearer token
// rides along); larger ones are fetched by the browser straight from the
// tier's presigned URL, which the API hands out as JSON because a browser
// cannot read a 302's Location.
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

function openUrl(url: string): void {
  const a = document.createElement('a');
  a.href = url;
  a.rel = 'noopener';
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
}

export async function downloadFile(file: FileObject): Promise<void> {
  if (file.file_size > BLOB_DOWNLOAD_LIMIT) {
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
  return useMutation({ mutationFn: downloadFile });
}
