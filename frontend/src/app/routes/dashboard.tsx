import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect } from 'react';

import { useAuth } from '@/features/auth/components/auth-provider';
import { Navbar } from '@/features/auth/components/navbar';
import { FileList } from '@/features/files/components/file-list';
import { FileUpload } from '@/features/files/components/file-upload';
import { syncStatusQueryKey } from '@/features/sync/api/get-sync-status';
import { SyncStatusCard } from '@/features/sync/components/sync-status-card';
import { usageQueryKey } from '@/features/usage/api/get-usage';
import { UsageBar } from '@/features/usage/components/usage-bar';

export default function DashboardRoute() {
  const queryClient = useQueryClient();
  // Unfinished large uploads are remembered per user, to resume after a reload.
  const { user } = useAuth();
  // A new file changes the count waiting for sync and the usage.
  const onUploaded = useCallback(() => {
    void queryClient.invalidateQueries({ queryKey: syncStatusQueryKey });
    void queryClient.invalidateQueries({ queryKey: usageQueryKey });
  }, [queryClient]);

  useEffect(() => {
    document.title = 'Dashboard · Hybrid Storage';
  }, []);

  return (
    <div className="min-h-screen">
      <a
        href="#files-heading"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById('files-heading')?.focus();
        }}
        className="sr-only rounded-md bg-white px-3 py-2 text-sm font-medium text-indigo-700 shadow focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50"
      >
        Skip to your files
      </a>
      <Navbar />
      <main className="mx-auto max-w-6xl space-y-6 px-4 py-6">
        <h1 className="sr-only">Dashboard</h1>
        <div className="grid items-start gap-6 lg:grid-cols-3">
          <div className="lg:col-span-2">
            <FileUpload onUploaded={onUploaded} userId={user?.id} />
          </div>
          <div className="space-y-6">
            <SyncStatusCard />
            <UsageBar />
          </div>
        </div>
        <FileList />
      </main>
    </div>
  );
}
