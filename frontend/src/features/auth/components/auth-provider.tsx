import { useQueryClient } from '@tanstack/react-query';
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useState,
  useSyncExternalStore,
  type ReactNode,
} from 'react';

import { useToast } from '@/components/ui/toast';
import { login as loginRequest, type Credentials, type LoginBody } from '@/features/auth/api/login';
import { logout as logoutRequest } from '@/features/auth/api/logout';
import { meQueryOptions, useMe, type User } from '@/features/auth/api/get-me';
import { signup as signupRequest } from '@/features/auth/api/signup';
import { whenSettled } from '@/lib/api-client';
import { tokenStore } from '@/lib/auth-token';
import { session, type EndReason } from '@/lib/session';

export type AuthStatus = 'loading' | 'authenticated' | 'anonymous' | 'error';
// Why the last session ended: a user who logged out on purpose is not sent
// back to where they were when they log in again.
export type LogoutReason = EndReason;

type AuthContextValue = {
  user: User | null;
  status: AuthStatus;
  logoutReason: LogoutReason | null;
  error: Error | null;
  retry: () => void;
  // login and signup start a session (the server sets the refresh cookie);
  // they reject with the server's ApiError (e.g. 401 TOTP_REQUIRED).
  login: (body: LoginBody) => Promise<void>;
  signup: (credentials: Credentials) => Promise<void>;
  // logout ends this session here and in other tabs, then on the server.
  logout: () => Promise<void>;
  // endSession ends it here only: the server has ended it already (the
  // account was deleted, the password reset).
  endSession: () => void;
};

const AuthContext = createContext<AuthContextValue | null>(null);

const ENDED_MESSAGES: Record<EndReason, string | null> = {
  user: null,
  expired: 'Your session expired. Please log in again.',
  revoked: 'Your session has ended. Please log in again.',
};

// How long a logout waits for the page's requests under way.
const LOGOUT_SETTLE_MS = 2_000;

// Restoring the session of a page load: by refresh, when this browser has one.
type Restore = { state: 'pending' } | { state: 'done' } | { state: 'failed'; error: Error };

export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const { notify } = useToast();
  const token = useSyncExternalStore(tokenStore.subscribe, tokenStore.get);
  const [logoutReason, setLogoutReason] = useState<LogoutReason | null>(null);
  const [restore, setRestore] = useState<Restore>(() =>
    tokenStore.get() === null && session.hasSession() ? { state: 'pending' } : { state: 'done' },
  );
  const me = useMe(token !== null);

  // Refresh before expiry, share tokens with other tabs, follow their logins
  // and logouts.
  useEffect(() => session.start(), []);

  useEffect(
    () =>
      session.onEnded((reason) => {
        setLogoutReason(reason);
        void queryClient.cancelQueries();
        queryClient.removeQueries();
        const message = ENDED_MESSAGES[reason];
        if (message) notify('info', message);
      }),
    [queryClient, notify],
  );

  // Another tab logged in: what this tab holds may be another user's.
  useEffect(
    () =>
      session.onSwitched(() => {
        setLogoutReason(null);
        void queryClient.resetQueries();
      }),
    [queryClient],
  );

  useEffect(() => {
    if (restore.state !== 'pending') return;
    let live = true;
    session.restore().then(
      () => live && setRestore({ state: 'done' }),
      (err: Error) => live && setRestore({ state: 'failed', error: err }),
    );
    return () => {
      live = false;
    };
  }, [restore]);

  const begin = useCallback(
    async (answer: Parameters<typeof session.begin>[0]) => {
      queryClient.removeQueries();
      session.begin(answer);
      // The user comes from /api/auth/me, which also proves the token works.
      await queryClient.fetchQuery(meQueryOptions());
      setLogoutReason(null);
      setRestore({ state: 'done' });
    },
    [queryClient],
  );

  const login = useCallback(async (body: LoginBody) => begin(await loginRequest(body)), [begin]);

  const signup = useCallback(
    async (credentials: Credentials) => {
      const answer = await signupRequest(credentials);
      // A server before sessions created the account without logging in.
      if (typeof answer.access_token === 'string') await begin(answer);
      else await login(credentials);
    },
    [begin, login],
  );

  const logout = useCallback(async () => {
    // Ended here first: nothing on the page asks again with a token the
    // server is about to refuse. The server is told once the requests
    // already sent have answered (at most 2 s), with the token they used.
    await session.ensureFresh();
    const token = tokenStore.get();
    session.end('user');
    setLogoutReason('user');
    if (token === null) return;
    await whenSettled(LOGOUT_SETTLE_MS);
    try {
      await logoutRequest('current', token);
    } catch {
      notify('error', 'Logged out in this browser, but the server could not be reached to end the session there.');
    }
  }, [notify]);

  const endSession = useCallback(() => {
    session.end('user');
    setLogoutReason('user');
  }, []);

  let status: AuthStatus;
  if (restore.state === 'pending') status = 'loading';
  else if (token === null) status = restore.state === 'failed' ? 'error' : 'anonymous';
  else if (me.data) status = 'authenticated';
  else if (me.isError) status = 'error';
  else status = 'loading';

  const error = token === null && restore.state === 'failed' ? restore.error : me.error;
  const refetchMe = me.refetch;
  const retry = useCallback(() => {
    if (tokenStore.get() === null) setRestore({ state: 'pending' });
    else void refetchMe();
  }, [refetchMe]);

  const value = useMemo<AuthContextValue>(
    () => ({
      user: token !== null ? (me.data ?? null) : null,
      status,
      logoutReason,
      error,
      retry,
      login,
      signup,
      logout,
      endSession,
    }),
    [token, me.data, error, status, logoutReason, retry, login, signup, logout, endSession],
  );

  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthContextValue {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error('useAuth must be used inside <AuthProvider>');
  return ctx;
}
