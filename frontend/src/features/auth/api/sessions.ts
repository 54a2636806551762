import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import { logout } from '@/features/auth/api/logout';
import { api } from '@/lib/api-client';

// Session is one login of the user that has not ended (GET
// /api/auth/sessions); current is the one of this browser.
export type Session = {
  id: number;
  created_at: string;
  last_used_at: string;
  expires_at?: string;
  ip: string;
  user_agent: string;
  current: boolean;
};

export const sessionsQueryKey = ['auth', 'sessions'] as const;

export async function getSessions(signal?: AbortSignal): Promise<Session[]> {
  const { data } = await api.get<{ sessions: Session[] }>('/api/auth/sessions', { signal });
  return data.sessions ?? [];
}

export function sessionsQueryOptions() {
  return queryOptions({ queryKey: sessionsQueryKey, queryFn: ({ signal }) => getSessions(signal) });
}

export function useSessions() {
  return useQuery(sessionsQueryOptions());
}

// endSession ends one session (404 SESSION_NOT_FOUND: gone already).
export async function endSession(id: number): Promise<void> {
  await api.delete(`/api/auth/sessions/${encodeURIComponent(String(id))}`);
}

export function useEndSession() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: endSession,
    onSettled: () => queryClient.invalidateQueries({ queryKey: sessionsQueryKey }),
  });
}

// useLogoutOthers: "log out other devices" (POST /api/auth/logout
// {scope: "others"}).
export function useLogoutOthers() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => logout('others'),
    onSettled: () => queryClient.invalidateQueries({ queryKey: sessionsQueryKey }),
  });
}
