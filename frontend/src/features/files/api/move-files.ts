import { useMutation, useQueryClient } from '@tanstack/react-query';

import { bulkFiles, type BulkResult } from '@/features/files/api/bulk-files';
import type { FileObject } from '@/features/files/types';
import { invalidateFileViews } from '@/features/trash/api/trash';
import { api } from '@/lib/api-client';

// moveFile puts one file in another folder (PATCH /api/files/{id}
// folder_id; null: the root).
export async function moveFile({ id, folderId }: { id: number; folderId: number | null }): Promise<FileObject> {
  const { data } = await api.patch<FileObject>(`/api/files/${id}`, { folder_id: folderId });
  return data;
}

// moveFiles moves one file by PATCH, several by the bulk call, and answers
// per file either way. A refused single move throws (its reason is the
// answer); a bulk call says per file what failed.
export async function moveFiles({ ids, folderId }: { ids: number[]; folderId: number | null }): Promise<BulkResult[]> {
  if (ids.length === 1) {
    await moveFile({ id: ids[0], folderId });
    return [{ id: ids[0], status: 'moved' }];
  }
  return bulkFiles({ action: 'move', ids, targetFolderId: folderId });
}

export function useMoveFiles() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: moveFiles,
    onSettled: () => invalidateFileViews(queryClient),
  });
}
