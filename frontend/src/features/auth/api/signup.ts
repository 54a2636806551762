import { useMutation } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import type { Credentials } from '@/features/auth/api/login';
import type { TokenAnswer } from '@/lib/session';

// SignupResponse: the server answers as login does (and sets the refresh
// cookie); servers before sessions answered {message, user_id} only.
export type SignupResponse = (TokenAnswer & { user: { id: number; email: string } }) | { message: string; user_id: number; access_token?: undefined };

export async function signup(body: Credentials): Promise<SignupResponse> {
  const { data } = await api.post<SignupResponse>('/api/auth/signup', body, { skipAuth: true, withCredentials: true });
  return data;
}

export function useSignup() {
  return useMutation({ mutationFn: signup });
}
