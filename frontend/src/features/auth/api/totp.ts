import { useMutation, useQueryClient } from '@tanstack/react-query';

import { meQueryKey } from '@/features/auth/api/get-me';
import { api } from '@/lib/api-client';

// Two-factor login (TOTP, RFC 6238): setup gives a secret to show as a QR
// code; enable turns it on with a code of that secret and answers the
// recovery codes, once; disable takes the password and a code.

export type TotpSetup = { secret: string; otpauth_uri: string };

export async function setupTotp(): Promise<TotpSetup> {
  const { data } = await api.post<TotpSetup>('/api/auth/totp/setup', {});
  return data;
}

export async function enableTotp(code: string): Promise<string[]> {
  const { data } = await api.post<{ recovery_codes: string[] }>('/api/auth/totp/enable', { code });
  return data.recovery_codes ?? [];
}

export async function disableTotp(body: { password: string; code: string }): Promise<void> {
  await api.post('/api/auth/totp/disable', body);
}

export function useSetupTotp() {
  return useMutation({ mutationFn: setupTotp });
}

// The user's totp_enabled changes: GET /api/auth/me again.
export function useEnableTotp() {
  const queryClient = useQueryClient();
  return useMutation({ mutationFn: enableTotp, onSuccess: () => queryClient.invalidateQueries({ queryKey: meQueryKey }) });
}

export function useDisableTotp() {
  const queryClient = useQueryClient();
  return useMutation({ mutationFn: disableTotp, onSuccess: () => queryClient.invalidateQueries({ queryKey: meQueryKey }) });
}
