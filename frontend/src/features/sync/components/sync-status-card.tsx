import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';

import { filesQueryKey } from '@/features/files/api/get-files';
import { useSyncStatus } from '@/features/sync/api/get-sync-status';
import { usageQueryKey } from '@/features/usage/api/get-usage';
import { formatDate } from '@/lib/format';

export function SyncStatusCard() {
  const status = useSyncStatus();
  const queryClient = useQueryClient();
  // A run that moved files (fewer waiting, a new last run) changes the
  // storage card's tiers and the list's badges: both are asked again.
  const seen = useRef<string | null>(null);
  const d = status.data;
  const state = d ? JSON.stringify([d.pending, d.last_run?.started_at ?? null, d.last_run?.finished_at ?? null]) : null;
  useEffect(() => {
    if (state === null) return;
    if (seen.current !== null && seen.current !== state) {
      void queryClient.invalidateQueries({ queryKey: usageQueryKey });
      void queryClient.invalidateQueries({ queryKey: filesQueryKey });
    }
    seen.current = state;
  }, [state, queryClient]);

  // No endpoint (404 → null) or a failure: the card is a nicety, hide it.
  if (status.isPending) {
    return (
      <section aria-label="Sync status" className="rounded-lg border border-slate-200 bg-white p-4 text-sm text-slate-500 shadow-sm">
        Loading sync status…
      </section>
    );
  }
  if (status.isError || !status.data) return null;

  const { last_run: run, pending } = status.data;
  return (
    <section aria-labelledby="sync-heading" className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
      <h2 id="sync-heading" className="text-lg font-semibold">
        Sync to S3
      </h2>
      <p className="mt-1 text-xs text-slate-500">Files move from MinIO to S3 every night at 00:00 UTC.</p>
      <dl className="mt-3 grid grid-cols-2 gap-3 text-sm">
        <div>
          <dt className="text-slate-500">Waiting for sync</dt>
          <dd className="text-xl font-semibold">{pending}</dd>
        </div>
        <div>
          <dt className="text-slate-500">Last run</dt>
          <dd className="font-medium">{run ? formatDate(run.finished_at ?? run.started_at) : 'Never'}</dd>
        </div>
        {run && (
          <>
            <div>
              <dt className="text-slate-500">Synced</dt>
              <dd className="font-medium">{run.synced}</dd>
            </div>
            <div>
              <dt className="text-slate-500">Failed</dt>
              <dd className={`font-medium ${run.failed > 0 ? 'text-red-700' : ''}`}>{run.failed}</dd>
            </div>
          </>
        )}
      </dl>
    </section>
  );
}
