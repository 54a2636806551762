import { queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import { ApiError } from '@/lib/api-error';

export type SyncRun = { started_at: string; finished_at: string | null; synced: number; failed: number };
export type SyncStatus = { last_run: SyncRun | null; pending: number };

// getSyncStatus returns null when the server has no such endpoint (404):
// the dashboard then simply has no sync card.
export async function getSyncStatus(): Promise<SyncStatus | null> {
  try {
    const { data } = await api.get<SyncStatus>('/api/sync/status');
    return data;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

export const syncStatusQueryKey = ['sync-status'] as const;

export function syncStatusQueryOptions() {
  return queryOptions({
    queryKey: syncStatusQueryKey,
    queryFn: getSyncStatus,
    refetchInterval: (query) => (query.state.data === null ? false : 15_000),
  });
}

export function useSyncStatus() {
  return useQuery(syncStatusQueryOptions());
}
