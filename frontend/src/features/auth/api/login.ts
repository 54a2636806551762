import { useMutation } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

export type Credentials = { email: string; password: string };

export type LoginResponse = {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
  user: { id: number; email: string };
};

export async function login(body: Credentials): Promise<LoginResponse> {
  const { data } = await api.post<LoginResponse>('/api/auth/login', body);
  return data;
}

export function useLoginRequest() {
  return useMutation({ mutationFn: login });
}
