import { infiniteQueryOptions, keepPreviousData, useInfiniteQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import type { FileObject, StorageLocation } from '@/features/files/types';

export type FilesPage = { files: FileObject[]; next_cursor: string | null };

// The sorts of GET /api/files (the API's openapi.yaml lists them; a cursor
// belongs to the sort and order that issued it).
export const FILE_SORTS = ['name', 'size', 'uploaded_at'] as const;
export type FileSort = (typeof FILE_SORTS)[number];
export type SortOrder = 'asc' | 'desc';
export type FilesSort = { sort: FileSort; order: SortOrder };
export const DEFAULT_FILES_SORT: FilesSort = { sort: 'uploaded_at', order: 'desc' };

// folder: one folder's files (null: the root's); undefined: every file of
// every folder (a search looks everywhere).
export type FilesFilter = { q: string; location: StorageLocation | ''; folder?: number | null } & FilesSort;

export const PAGE_SIZE = 20;
// The sync job moves files to S3 in the background; polling shows the new
// tier without a reload.
export const FILES_REFRESH_MS = 15_000;

export async function getFiles(
  params: FilesFilter & { cursor?: string | null; limit?: number },
  signal?: AbortSignal,
): Promise<FilesPage> {
  const query: Record<string, string | number> = { limit: params.limit ?? PAGE_SIZE };
  if (params.cursor) query.cursor = params.cursor;
  if (params.q) query.q = params.q;
  if (params.location) query.location = params.location;
  if (params.folder !== undefined) query.folder_id = params.folder === null ? 'root' : params.folder;
  query.sort = params.sort;
  query.order = params.order;
  const { data } = await api.get<FilesPage>('/api/files', { params: query, signal });
  return { files: data.files ?? [], next_cursor: data.next_cursor ?? null };
}

// Every query about files lives under this key; mutations invalidate it.
// A list's key holds its whole filter, sort and order included.
export const filesQueryKey = ['files'] as const;

export function filesInfiniteQueryOptions(filter: FilesFilter, refetchInterval: number = FILES_REFRESH_MS) {
  return infiniteQueryOptions({
    queryKey: [...filesQueryKey, 'list', filter],
    queryFn: ({ pageParam, signal }) => getFiles({ ...filter, cursor: pageParam }, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    refetchInterval,
    refetchOnWindowFocus: true,
    staleTime: 0,
    // While a new search loads, keep showing the previous results.
    placeholderData: keepPreviousData,
  });
}

// enabled false: nothing is asked (a folder that cannot exist).
export function useFiles(filter: FilesFilter, refetchInterval?: number, enabled = true) {
  return useInfiniteQuery({ ...filesInfiniteQueryOptions(filter, refetchInterval), enabled });
}
