import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import axios from 'axios';

import { env } from '@/config/env';
import { api } from '@/lib/api-client';
import { toApiError } from '@/lib/api-error';

export type Share = {
  id: number;
  url?: string; // only in the answer that creates the share
  expires_at: string;
  max_downloads: number | null;
  downloads: number;
  has_password: boolean;
  created_at: string;
};

export type NewShare = { expires_in_hours: number; password?: string; max_downloads?: number };

// FileFacts are what a share's recipient may know of its file: of a share
// with a password, only once the password matched.
export type FileFacts = { filename: string; file_size: number; content_type: string };

// PublicShare is what the page shows before any download: the file's facts
// only when the share has no password.
export type PublicShare = { expires_at: string } & (
  | ({ needs_password: false } & FileFacts)
  | { needs_password: true; filename?: undefined; file_size?: undefined; content_type?: undefined }
);

export type ShareDownload = { url: string; expires_in: number } & FileFacts;

export const sharesQueryKey = (fileId: number) => ['shares', fileId] as const;

// How often an open share dialog asks for its links again.
export const SHARES_REFRESH_MS = 5_000;

export function sharesQueryOptions(fileId: number, refetchInterval: number | false = false) {
  return queryOptions({
    queryKey: sharesQueryKey(fileId),
    refetchInterval,
    // Downloads happen elsewhere: each opening of the dialog asks again.
    staleTime: 0,
    refetchOnMount: 'always',
    queryFn: async ({ signal }) => {
      const { data } = await api.get<{ shares: Share[] }>(`/api/files/${fileId}/shares`, { signal });
      return data.shares ?? [];
    },
  });
}

export function useShares(fileId: number, refetchInterval: number | false = false) {
  return useQuery(sharesQueryOptions(fileId, refetchInterval));
}

export function useCreateShare(fileId: number) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (s: NewShare) => {
      const { data } = await api.post<Share>(`/api/files/${fileId}/shares`, s);
      return data;
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: sharesQueryKey(fileId) }),
  });
}

export function useRevokeShare(fileId: number) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (shareId: number) => {
      await api.delete(`/api/shares/${shareId}`);
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: sharesQueryKey(fileId) }),
  });
}

// publicApi calls the public share routes: never with the session's token
// (the page works logged out, and a 401 there is the share's password, not
// the end of a session).
const publicApi = axios.create({ baseURL: env.API_BASE_URL, headers: { Accept: 'application/json' } });
publicApi.interceptors.response.use(
  (r) => r,
  (error: unknown) => Promise.reject(toApiError(error, { fromApi: true })),
);

export async function getPublicShare(token: string, signal?: AbortSignal): Promise<PublicShare> {
  const { data } = await publicApi.get<PublicShare>(`/api/public/shares/${encodeURIComponent(token)}`, { signal });
  return data;
}

export function usePublicShare(token: string) {
  return useQuery({
    queryKey: ['public-share', token],
    queryFn: ({ signal }) => getPublicShare(token, signal),
    retry: false,
  });
}

// downloadShare asks for the file's presigned URL (with the file's facts);
// the password travels in the body only.
export async function downloadShare(token: string, password?: string): Promise<ShareDownload> {
  const { data } = await publicApi.post<ShareDownload>(
    `/api/public/shares/${encodeURIComponent(token)}/download`,
    password ? { password } : {},
  );
  return data;
}
