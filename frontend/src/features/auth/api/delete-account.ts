import { api } from '@/lib/api-client';

// deleteAccount deletes the signed-in account and everything in it; the
// password confirms it (a wrong one is 401 INVALID_CREDENTIALS, which does
// not end the session).
export async function deleteAccount(password: string): Promise<void> {
  await api.delete('/api/auth/me', { data: { password }, headers: { 'Content-Type': 'application/json' } });
}
