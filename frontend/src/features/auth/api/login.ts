import { useMutation } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import type { TokenAnswer } from '@/lib/session';

export type Credentials = { email: string; password: string };

// LoginBody: with two-factor on, the second try carries a code from the
// authenticator app or one of the recovery codes (the first try without
// either answers 401 TOTP_REQUIRED).
export type LoginBody = Credentials & { totp_code?: string; recovery_code?: string };

export type LoginResponse = TokenAnswer & { user: { id: number; email: string } };

// login answers the access token; the server sets the refresh cookie.
export async function login(body: LoginBody): Promise<LoginResponse> {
  const { data } = await api.post<LoginResponse>('/api/auth/login', body, { skipAuth: true, withCredentials: true });
  return data;
}

export function useLoginRequest() {
  return useMutation({ mutationFn: login });
}
