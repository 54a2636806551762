import { useMutation, useQueryClient } from '@tanstack/react-query';

import type { FileObject } from '@/features/files/types';
import { invalidateFileViews } from '@/features/trash/api/trash';
import { api } from '@/lib/api-client';

// renameFile gives a file a new name (PATCH /api/files/{id}): the name the
// list, downloads and shares show. The bytes and their storage stay.
export async function renameFile({ id, filename }: { id: number; filename: string }): Promise<FileObject> {
  const { data } = await api.patch<FileObject>(`/api/files/${id}`, { filename });
  return data;
}

export function useRenameFile() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: renameFile,
    onSuccess: () => invalidateFileViews(queryClient),
  });
}
