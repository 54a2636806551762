import { queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

// Usage is GET /api/usage: what the account stores and its quota (null: unlimited).
export type Usage = {
  quota_bytes: number | null;
  used_bytes: number;
  hot_bytes: number;
  cold_bytes: number;
  trash_bytes: number;
  upload_bytes: number;
  files: number;
};

export const usageQueryKey = ['usage'] as const;

export async function getUsage(signal?: AbortSignal): Promise<Usage> {
  const { data } = await api.get<Usage>('/api/usage', { signal });
  return data;
}

export function usageQueryOptions() {
  return queryOptions({ queryKey: usageQueryKey, queryFn: ({ signal }) => getUsage(signal), staleTime: 0 });
}

export function useUsage() {
  return useQuery(usageQueryOptions());
}

// quotaLeft is how many bytes may still be uploaded; null when unlimited.
export function quotaLeft(u: Usage | undefined): number | null {
  if (!u || u.quota_bytes === null) return null;
  return Math.max(0, u.quota_bytes - u.used_bytes);
}
