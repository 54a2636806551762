import { useMutation } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

// requestPasswordReset asks the server to mail a reset link to email. The
// answer is the same 202 whether an account has the address or not.
export async function requestPasswordReset(email: string): Promise<void> {
  await api.post('/api/auth/password-reset', { email }, { skipAuth: true });
}

export function useRequestPasswordReset() {
  return useMutation({ mutationFn: requestPasswordReset });
}

// confirmPasswordReset sets the new password with the link's token; every
// session of the account ends (400 RESET_TOKEN_INVALID: unknown, used or
// expired).
export async function confirmPasswordReset(body: { token: string; new_password: string }): Promise<void> {
  await api.post('/api/auth/password-reset/confirm', body, { skipAuth: true });
}

export function useConfirmPasswordReset() {
  return useMutation({ mutationFn: confirmPasswordReset });
}
