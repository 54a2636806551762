import { queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

// DownloadMode is how the server serves downloads: "stream" through the API
// (the API's origin), or "redirect" to a presigned URL of the storage tier
// (another origin, e.g. S3 behind the hosted API).
export type DownloadMode = 'stream' | 'redirect';

// UploadConfig is the server's public upload limits and download mode
// (GET /api/config). Servers before download_mode stream.
export type UploadConfig = {
  max_file_size_bytes: number;
  multipart_threshold_bytes: number;
  download_mode?: DownloadMode;
  // Days a deleted file stays in the trash; 0 is no trash (a delete is final).
  // Servers before the trash have none.
  trash_retention_days?: number;
};

export async function getUploadConfig(): Promise<UploadConfig> {
  const { data } = await api.get<UploadConfig>('/api/config');
  return data;
}

export function uploadConfigQueryOptions() {
  return queryOptions({
    queryKey: ['config'],
    queryFn: getUploadConfig,
    staleTime: 10 * 60_000,
    refetchOnWindowFocus: false,
  });
}

export function useUploadConfig() {
  return useQuery(uploadConfigQueryOptions());
}
