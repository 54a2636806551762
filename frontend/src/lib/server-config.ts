import { queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

// DownloadMode is how the server serves downloads: "stream" through the API
// (the API's origin), or "redirect" to a presigned URL of the storage tier
// (another origin, e.g. S3 behind the hosted API).
export type DownloadMode = 'stream' | 'redirect';

// PasswordRules: what a new password must pass (signup, change, reset);
// blocklist_url answers the common passwords refused, lower case.
export type PasswordRules = { min_chars: number; max_bytes: number; blocklist_url: string };

// ServerConfig is the server's public settings (GET /api/config): upload
// limits, download mode, trash, password rules. Servers before
// download_mode stream; fields a server predates are absent.
export type ServerConfig = {
  max_file_size_bytes: number;
  multipart_threshold_bytes: number;
  download_mode?: DownloadMode;
  // Days a deleted file stays in the trash; 0 is no trash (a delete is final).
  // Servers before the trash have none.
  trash_retention_days?: number;
  password?: PasswordRules;
  // POST /api/auth/password-reset can send mail (false: it answers 503).
  password_reset?: boolean;
};

export async function getServerConfig(): Promise<ServerConfig> {
  // Public: no token, so it never waits for a refresh.
  const { data } = await api.get<ServerConfig>('/api/config', { skipAuth: true });
  return data;
}

export function serverConfigQueryOptions() {
  return queryOptions({
    queryKey: ['config'],
    queryFn: getServerConfig,
    staleTime: 10 * 60_000,
    refetchOnWindowFocus: false,
  });
}

export function useServerConfig() {
  return useQuery(serverConfigQueryOptions());
}
