import { queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

// totp_enabled: two-factor login is on (servers before two-factor leave it out).
export type User = { id: number; email: string; created_at?: string; totp_enabled?: boolean };

export async function getMe(): Promise<User> {
  const { data } = await api.get<User>('/api/auth/me');
  return data;
}

export const meQueryKey = ['auth', 'me'] as const;

export function meQueryOptions() {
  return queryOptions({ queryKey: meQueryKey, queryFn: getMe, staleTime: 5 * 60_000, refetchOnWindowFocus: false });
}

export function useMe(enabled: boolean) {
  return useQuery({ ...meQueryOptions(), enabled });
}
