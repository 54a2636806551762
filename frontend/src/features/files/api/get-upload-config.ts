import { queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

// UploadConfig is the server's public upload limits (GET /api/config).
export type UploadConfig = {
  max_file_size_bytes: number;
  multipart_threshold_bytes: number;
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
