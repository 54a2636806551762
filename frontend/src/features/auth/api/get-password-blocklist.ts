import { queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import { useServerConfig } from '@/lib/server-config';

// The common passwords the server refuses for a new password (lower case),
// from the URL GET /api/config names (password.blocklist_url): the forms say
// so before sending. Loaded once per page; the server checks anyway.
export async function getPasswordBlocklist(url: string): Promise<Set<string>> {
  const { data } = await api.get<{ passwords?: unknown }>(url, { skipAuth: true });
  const list = Array.isArray(data?.passwords) ? data.passwords : [];
  return new Set(list.filter((p): p is string => typeof p === 'string').map((p) => p.toLowerCase()));
}

export function passwordBlocklistQueryOptions(url: string) {
  return queryOptions({
    queryKey: ['password-blocklist', url],
    queryFn: () => getPasswordBlocklist(url),
    staleTime: Infinity,
    gcTime: Infinity,
    refetchOnWindowFocus: false,
    retry: false,
  });
}

// usePasswordRules: the server's rules and its blocklist, as far as they
// have arrived (a server before them has neither).
export function usePasswordRules() {
  const rules = useServerConfig().data?.password;
  const url = rules?.blocklist_url ?? '';
  const blocklist = useQuery({ ...passwordBlocklistQueryOptions(url), enabled: url !== '' });
  return { rules, blocklist: blocklist.data };
}
