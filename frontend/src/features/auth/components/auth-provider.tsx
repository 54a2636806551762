import { useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';

import { useToast } from '@/components/ui/toast';
import { login as loginRequest, type Credentials } from '@/features/auth/api/login';
import { meQueryOptions, useMe, type User } from '@/features/auth/api/get-me';
import { clearToken, getToken, onUnauthorized, setToken, tokenExpiry } from '@/lib/auth-token';

export type AuthStatus = 'loading' | 'authenticated' | 'anonymous' | 'error';
// Why the last session ended: a user who logged out on purpose is not sent
// back to where they were when they log in again.
export type LogoutReason = 'user' | 'expired' | 'unauthorized';

type AuthContextValue = {
  user: User | null;
  status: AuthStatus;
  logoutReason: LogoutReason | null;
  error: Error | null;
  retry: () => void;
  login: (credentials: Credentials) => Promise<void>;
  logout: () => void;
};

const AuthContext = createContext<AuthContextValue | null>(null);

// Longest delay setTimeout honours (~24.8 days); longer ones fire at once.
const MAX_TIMEOUT = 2 ** 31 - 1;

function initialToken(): string | null {
  const t = getToken();
  if (!t) return null;
  const exp = tokenExpiry(t);
  if (exp !== null && exp <= Date.now()) {
    clearToken();
    return null;
  }
  return t;
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const { notify } = useToast();
  const [token, setTokenState] = useState<string | null>(initialToken);
  const [logoutReason, setLogoutReason] = useState<LogoutReason | null>(null);
  const me = useMe(token !== null);

  const endSession = useCallback((reason: LogoutReason) => {
    setLogoutReason(reason);
    clearToken();
    setTokenState(null);
    queryClient.cancelQueries();
    queryClient.removeQueries();
  }, [queryClient]);

  // Any 401 on an authenticated request ends the session.
  useEffect(
    () =>
      onUnauthorized(() => {
        if (getToken() === null) return;
        endSession('unauthorized');
        notify('info', 'Your session has ended. Please log in again.');
      }),
    [endSession, notify],
  );

  // Log out when the token expires, decoded from the JWT's exp claim.
  useEffect(() => {
    if (!token) return;
    const exp = tokenExpiry(token);
    if (exp === null) return;
    const t = window.setTimeout(
      () => {
        endSession('expired');
        notify('info', 'Your session expired. Please log in again.');
      },
      Math.min(Math.max(0, exp - Date.now()), MAX_TIMEOUT),
    );
    return () => window.clearTimeout(t);
  }, [token, endSession, notify]);

  // Logging out in another tab logs out this one too.
  useEffect(() => {
    const onStorage = (e: StorageEvent) => {
      if (e.storageArea === window.localStorage && getToken() !== token) {
        if (getToken() === null) endSession('user');
        else setTokenState(getToken());
      }
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, [token, endSession]);

  const login = useCallback(
    async (credentials: Credentials) => {
      const res = await loginRequest(credentials);
      setToken(res.access_token);
      // The user comes from /api/auth/me, which also proves the token works.
      await queryClient.fetchQuery(meQueryOptions());
      setLogoutReason(null);
      setTokenState(res.access_token);
    },
    [queryClient],
  );

  const logout = useCallback(() => endSession('user'), [endSession]);

  let status: AuthStatus;
  if (token === null) status = 'anonymous';
  else if (me.data) status = 'authenticated';
  else if (me.isError) status = 'error';
  else status = 'loading';

  const retry = me.refetch;
  const value = useMemo<AuthContextValue>(
    () => ({
      user: token !== null ? (me.data ?? null) : null,
      status,
      logoutReason,
      error: me.error,
      retry: () => void retry(),
      login,
      logout,
    }),
    [token, me.data, me.error, status, logoutReason, retry, login, logout],
  );

  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthContextValue {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error('useAuth must be used inside <AuthProvider>');
  return ctx;
}
