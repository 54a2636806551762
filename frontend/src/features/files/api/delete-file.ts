import { useMutation, useQueryClient } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import { invalidateFileViews } from '@/features/trash/api/trash';

// deleteFile moves the file to the trash (or, on a server without one, deletes it).
export async function deleteFile(id: number): Promise<void> {
  await api.delete(`/api/files/${id}`);
}

export function useDeleteFile() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: deleteFile,
    onSuccess: () => invalidateFileViews(queryClient),
  });
}
