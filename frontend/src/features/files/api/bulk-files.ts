import { useMutation, useQueryClient } from '@tanstack/react-query';

import { invalidateFileViews } from '@/features/trash/api/trash';
import { api } from '@/lib/api-client';

// POST /api/files/bulk: delete (to the trash, or for good on a server
// without one), restore or move (to targetFolderId; null: the root) many
// files, answered per file.
export type BulkAction = 'delete' | 'restore' | 'move';
export type BulkResult = {
  id: number;
  status: 'trashed' | 'deleted' | 'restored' | 'moved' | 'failed';
  error_code?: string;
  detail?: string;
};

// The server takes at most this many ids per call.
export const BULK_MAX = 1000;

// bulkFiles sends ids in calls of BULK_MAX and returns every result in
// the order of ids.
export async function bulkFiles({
  action,
  ids,
  targetFolderId,
}: {
  action: BulkAction;
  ids: number[];
  targetFolderId?: number | null;
}): Promise<BulkResult[]> {
  const results: BulkResult[] = [];
  for (let i = 0; i < ids.length; i += BULK_MAX) {
    const body: Record<string, unknown> = { action, file_ids: ids.slice(i, i + BULK_MAX) };
    if (action === 'move') body.target_folder_id = targetFolderId ?? null;
    const { data } = await api.post<{ results: BulkResult[] }>('/api/files/bulk', body);
    results.push(...data.results);
  }
  return results;
}

export function useBulkFiles() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: bulkFiles,
    onSettled: () => invalidateFileViews(queryClient),
  });
}

// bulkSummary says what a bulk call did: how many files succeeded
// ("Moved 2 files to the trash") and, when some failed, which. nameOf
// names a file by id.
export function bulkSummary(results: BulkResult[], done: string, nameOf: (id: number) => string): { ok: number[]; message: string } {
  const ok = results.filter((r) => r.status !== 'failed').map((r) => r.id);
  const failed = results.filter((r) => r.status === 'failed');
  const files = (n: number) => (n === 1 ? '1 file' : `${n} files`);
  let message = done.replace('{n}', files(ok.length));
  if (failed.length > 0) {
    const names = failed.slice(0, 5).map((r) => nameOf(r.id));
    const more = failed.length > 5 ? ` and ${failed.length - 5} more` : '';
    message += `. ${files(failed.length)} failed: ${names.join(', ')}${more}`;
    if (failed.some((r) => r.error_code === 'SERVICE_UNAVAILABLE' || r.error_code === 'INTERNAL_ERROR')) message += ' (try again)';
  }
  return { ok, message };
}
