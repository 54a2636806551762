import { useMutation } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import type { Credentials } from '@/features/auth/api/login';

export type SignupResponse = { message: string; user_id: number };

export async function signup(body: Credentials): Promise<SignupResponse> {
  const { data } = await api.post<SignupResponse>('/api/auth/signup', body);
  return data;
}

export function useSignup() {
  return useMutation({ mutationFn: signup });
}
