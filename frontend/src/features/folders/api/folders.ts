import { queryOptions, useMutation, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';

import { filesQueryKey } from '@/features/files/api/get-files';
import type { Folder, FolderId, FolderWithPath } from '@/features/folders/types';
import { trashQueryKey } from '@/features/trash/api/trash';
import { usageQueryKey } from '@/features/usage/api/get-usage';
import { api } from '@/lib/api-client';

// The folders API (GET/POST /api/folders, GET/PATCH/DELETE
// /api/folders/{id}, and the trash's folder routes).

// Every query about folders lives under this key; mutations invalidate it.
export const foldersQueryKey = ['folders'] as const;

// How the API names the root in a query: parent_id=root.
const param = (id: FolderId) => (id === null ? 'root' : String(id));

export async function getFolders(parentId: FolderId, signal?: AbortSignal): Promise<Folder[]> {
  const { data } = await api.get<{ folders: Folder[] }>('/api/folders', { params: { parent_id: param(parentId) }, signal });
  return data.folders ?? [];
}

export async function getFolder(id: number, signal?: AbortSignal): Promise<FolderWithPath> {
  const { data } = await api.get<FolderWithPath>(`/api/folders/${id}`, { signal });
  return { ...data, path: data.path ?? [] };
}

export async function createFolder({ name, parentId }: { name: string; parentId: FolderId }): Promise<Folder> {
  const { data } = await api.post<Folder>('/api/folders', { name, parent_id: parentId });
  return data;
}

// updateFolder renames (name) and/or moves (parentId; null: to the root).
export async function updateFolder({ id, name, parentId }: { id: number; name?: string; parentId?: FolderId }): Promise<Folder> {
  const body: { name?: string; parent_id?: FolderId } = {};
  if (name !== undefined) body.name = name;
  if (parentId !== undefined) body.parent_id = parentId;
  const { data } = await api.patch<Folder>(`/api/folders/${id}`, body);
  return data;
}

// deleteFolder moves the folder, its subfolders and their files to the
// trash as one entry.
export async function deleteFolder(id: number): Promise<void> {
  await api.delete(`/api/folders/${id}`);
}

export async function restoreFolder(id: number): Promise<Folder> {
  const { data } = await api.post<Folder>(`/api/trash/folders/${id}/restore`);
  return data;
}

export async function purgeFolder(id: number): Promise<void> {
  await api.delete(`/api/trash/folders/${id}`);
}

export function foldersQueryOptions(parentId: FolderId) {
  return queryOptions({
    queryKey: [...foldersQueryKey, 'list', param(parentId)],
    queryFn: ({ signal }) => getFolders(parentId, signal),
    staleTime: 0,
  });
}

export function useFolders(parentId: FolderId, enabled = true) {
  return useQuery({ ...foldersQueryOptions(parentId), enabled });
}

export function folderQueryOptions(id: number) {
  return queryOptions({
    queryKey: [...foldersQueryKey, 'detail', id],
    queryFn: ({ signal }) => getFolder(id, signal),
    staleTime: 0,
  });
}

// useFolder: the folder id, with its path; nothing for the root (null) or
// an id that names no folder (0, see parseFolderId's callers).
export function useFolder(id: number | null) {
  return useQuery({ ...folderQueryOptions(id ?? 0), enabled: id !== null && id > 0 });
}

// invalidateFolderViews asks again for what a change of folders touches:
// the folders, the file lists (files move with them), the trash, the usage.
export function invalidateFolderViews(queryClient: QueryClient): Promise<unknown> {
  return Promise.all([
    queryClient.invalidateQueries({ queryKey: foldersQueryKey }),
    queryClient.invalidateQueries({ queryKey: filesQueryKey }),
    queryClient.invalidateQueries({ queryKey: trashQueryKey }),
    queryClient.invalidateQueries({ queryKey: usageQueryKey }),
  ]);
}

function useFolderMutation<A, R>(fn: (a: A) => Promise<R>) {
  const queryClient = useQueryClient();
  return useMutation({ mutationFn: fn, onSettled: () => invalidateFolderViews(queryClient) });
}

export function useCreateFolder() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: createFolder,
    // The new folder shows at once, in name order, before the list is asked again.
    onSuccess: (folder) => {
      queryClient.setQueryData<Folder[]>(foldersQueryOptions(folder.parent_id).queryKey, (list) =>
        list ? sortFolders([...list.filter((f) => f.id !== folder.id), folder]) : list,
      );
      return queryClient.invalidateQueries({ queryKey: foldersQueryKey });
    },
  });
}

export const useUpdateFolder = () => useFolderMutation(updateFolder);
export const useDeleteFolder = () => useFolderMutation(deleteFolder);
export const useRestoreFolder = () => useFolderMutation(restoreFolder);
export const usePurgeFolder = () => useFolderMutation(purgeFolder);

// sortFolders orders folders as the API does: by name, case-insensitively.
export function sortFolders(list: Folder[]): Folder[] {
  return [...list].sort((a, b) => {
    const x = a.name.toLowerCase();
    const y = b.name.toLowerCase();
    return x < y ? -1 : x > y ? 1 : a.id - b.id;
  });
}

// parseFolderId reads a folder id from the URL: a positive whole number, or
// null when it is none (the page says the folder does not exist).
export function parseFolderId(raw: string | undefined): number | null {
  if (!raw || !/^[1-9][0-9]{0,15}$/.test(raw)) return null;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : null;
}
