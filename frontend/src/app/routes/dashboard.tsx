import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef } from 'react';
import { useMatch } from 'react-router-dom';

import { paths } from '@/config/paths';

import { useAuth } from '@/features/auth/components/auth-provider';
import { Navbar } from '@/features/auth/components/navbar';
import { FileList } from '@/features/files/components/file-list';
import { FileUpload } from '@/features/files/components/file-upload';
import { parseFolderId, useFolder } from '@/features/folders/api/folders';
import { syncStatusQueryKey } from '@/features/sync/api/get-sync-status';
import { SyncStatusCard } from '@/features/sync/components/sync-status-card';
import { usageQueryKey } from '@/features/usage/api/get-usage';
import { UsageBar } from '@/features/usage/components/usage-bar';
import { toApiError } from '@/lib/api-error';

export default function DashboardRoute() {
  const queryClient = useQueryClient();
  // Unfinished large uploads are remembered per user, to resume after a reload.
  const { user } = useAuth();
  // A new file changes the count waiting for sync and the usage.
  const onUploaded = useCallback(() => {
    void queryClient.invalidateQueries({ queryKey: syncStatusQueryKey });
    void queryClient.invalidateQueries({ queryKey: usageQueryKey });
  }, [queryClient]);

  // The folder open is in the URL (/files/<id>); /dashboard and /files
  // are the root. An id that is no number is no folder (0 is never one).
  const match = useMatch(paths.folder.path);
  const folderId = match ? (parseFolderId(match.params.folderId) ?? 0) : null;
  const folder = useFolder(folderId);
  // Uploads go into the folder open; into the root once the folder is known
  // not to exist (its uploads would be refused).
  const gone = folder.isError && [403, 404].includes(toApiError(folder.error).status);
  const missing = folderId !== null && (folderId === 0 || gone);
  const uploadFolder = missing ? null : folderId;
  const uploadFolderName = folderId === null || missing ? undefined : (folder.data?.name ?? '…');

  useEffect(() => {
    document.title = folder.data && folderId !== null ? `${folder.data.name} · Hybrid Storage` : 'Dashboard · Hybrid Storage';
  }, [folder.data, folderId]);

  // Opening another folder (a link, a breadcrumb, Back) moves focus to the
  // list's heading, which names it: the link pressed may be gone.
  const shown = useRef(folderId);
  useEffect(() => {
    if (shown.current === folderId) return;
    shown.current = folderId;
    document.getElementById('files-heading')?.focus();
  }, [folderId]);

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
            <FileUpload onUploaded={onUploaded} userId={user?.id} folderId={uploadFolder} folderName={uploadFolderName} />
          </div>
          <div className="space-y-6">
            <SyncStatusCard />
            <UsageBar />
          </div>
        </div>
        {/* A folder's list starts afresh: no search, selection or field of another folder. */}
        <FileList key={folderId ?? 'root'} folderId={folderId} />
      </main>
    </div>
  );
}
