import { api } from '@/lib/api-client';

// current (this session, the default), others (every other session of the
// user: "log out other devices") or all.
export type LogoutScope = 'current' | 'others' | 'all';

// logout ends sessions on the server: their access tokens are refused at
// once and their refresh cookies no longer work. 204.
// With token, the request carries that token as it is and a 401 is not
// answered by a refresh: the logout of a session this tab has ended already.
export async function logout(scope: LogoutScope = 'current', token?: string): Promise<void> {
  const own = token ? { skipAuth: true, headers: { Authorization: `Bearer ${token}` } } : {};
  await api.post('/api/auth/logout', { scope }, { withCredentials: true, ...own });
}
