import { infiniteQueryOptions, useInfiniteQuery, useMutation, useQueryClient, type QueryClient } from '@tanstack/react-query';

import { filesQueryKey } from '@/features/files/api/get-files';
import type { FileObject } from '@/features/files/types';
import { usageQueryKey } from '@/features/usage/api/get-usage';
import { api } from '@/lib/api-client';

// TrashedFile is a file in the trash: the file object, when it was deleted and
// when the server purges it. Servers before folders send no kind.
export type TrashedFile = FileObject & { kind?: 'file'; deleted_at: string; purge_at: string };
// TrashedFolder is a folder deleted with everything in it: one entry for
// its subfolders and their files (file_count of them, total_size bytes).
export type TrashedFolder = {
  kind: 'folder';
  id: number;
  name: string;
  deleted_at: string;
  purge_at: string;
  file_count: number;
  total_size: number;
};
export type TrashEntry = TrashedFile | TrashedFolder;
// The entries come under "files" (the name from before folders).
export type TrashPage = { files: TrashEntry[]; next_cursor: string | null };

export const isTrashedFolder = (e: TrashEntry): e is TrashedFolder => e.kind === 'folder';
// Files and folders count their ids apart: an entry's key is both.
export const trashEntryKey = (e: TrashEntry) => `${isTrashedFolder(e) ? 'folder' : 'file'}-${e.id}`;

export const TRASH_PAGE_SIZE = 20;
export const trashQueryKey = ['trash'] as const;

export async function getTrash(cursor: string | null, signal?: AbortSignal): Promise<TrashPage> {
  const params: Record<string, string | number> = { limit: TRASH_PAGE_SIZE };
  if (cursor) params.cursor = cursor;
  const { data } = await api.get<TrashPage>('/api/trash', { params, signal });
  return { files: data.files ?? [], next_cursor: data.next_cursor ?? null };
}

export function useTrash() {
  return useInfiniteQuery(
    infiniteQueryOptions({
      queryKey: [...trashQueryKey, 'list'],
      queryFn: ({ pageParam, signal }) => getTrash(pageParam, signal),
      initialPageParam: null as string | null,
      getNextPageParam: (last) => last.next_cursor ?? undefined,
      staleTime: 0,
    }),
  );
}

export async function restoreFile(id: number): Promise<FileObject> {
  const { data } = await api.post<FileObject>(`/api/trash/${id}/restore`);
  return data;
}

export async function purgeFile(id: number): Promise<void> {
  await api.delete(`/api/trash/${id}`);
}

export async function emptyTrash(): Promise<void> {
  await api.delete('/api/trash');
}

// invalidateFileViews asks again for what a delete, a restore or a purge
// changes: the file list, the trash and the usage.
export function invalidateFileViews(queryClient: QueryClient): Promise<unknown> {
  return Promise.all([
    queryClient.invalidateQueries({ queryKey: trashQueryKey }),
    queryClient.invalidateQueries({ queryKey: filesQueryKey }),
    queryClient.invalidateQueries({ queryKey: usageQueryKey }),
  ]);
}

// Every trash mutation changes both lists and the usage.
function useTrashMutation<A, R>(fn: (a: A) => Promise<R>) {
  const queryClient = useQueryClient();
  return useMutation({ mutationFn: fn, onSettled: () => invalidateFileViews(queryClient) });
}

export const useRestoreFile = () => useTrashMutation(restoreFile);
export const usePurgeFile = () => useTrashMutation(purgeFile);
export const useEmptyTrash = () => useTrashMutation((_: void) => emptyTrash());

// daysLeft is how many whole days (rounded up) remain before purgeAt; 0 when due.
export function daysLeft(purgeAt: string, now: number = Date.now()): number {
  return Math.max(0, Math.ceil((Date.parse(purgeAt) - now) / 86_400_000));
}
