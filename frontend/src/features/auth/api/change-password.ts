import { useMutation, useQueryClient } from '@tanstack/react-query';

import { sessionsQueryKey } from '@/features/auth/api/sessions';
import { api } from '@/lib/api-client';

// changePassword: 204, and every other session of the user ends (this one
// goes on). A wrong current password is 401 INVALID_CREDENTIALS with
// field current_password, which does not end the session.
export async function changePassword(body: { current_password: string; new_password: string }): Promise<void> {
  await api.post('/api/auth/password', body);
}

export function useChangePassword() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: changePassword,
    onSuccess: () => queryClient.invalidateQueries({ queryKey: sessionsQueryKey }),
  });
}
