import axios from 'axios';

import { env } from '@/config/env';
import { toApiError, type ApiError } from '@/lib/api-error';
import { tokenStore, type TokenStore } from '@/lib/auth-token';

// The session engine: the access token (in memory, lib/auth-token.ts) is
// short-lived; the refresh token is an HttpOnly cookie the server sets on
// login, signup and refresh (Path /api/auth), which no script here can read.
//
// - refresh(): POST /api/auth/refresh for a new access token. One at a time
//   in this tab (a shared promise) and across the browser's tabs (the Web
//   Locks API: the refresh cookie rotates, and a tab that waited for the lock
//   finds the new token another tab shared over a BroadcastChannel instead
//   of refreshing again). Without Web Locks each tab refreshes alone, which
//   the server's grace window for concurrent refreshes allows.
// - start(): refreshes shortly before the token expires, adopts tokens other
//   tabs share, and follows logins and logouts in other tabs.
// - A 401 from refresh (SESSION_EXPIRED, SESSION_REVOKED, no cookie) ends
//   the session here and in the other tabs: onEnded listeners hear why.
//
// Whether this browser has a session at all is remembered in localStorage
// as a hint without any secret in it ({"state":"active","id"} or
// {"state":"ended","reason"}): a page load restores the session by refresh
// only when the hint says there is one (a visitor who never logged in makes
// no request that must fail), and its changes tell the other tabs.

export type SessionUser = { id: number; email: string };

// What login, signup and refresh answer.
export type TokenAnswer = {
  access_token: string;
  token_type?: string;
  expires_in?: number;
  user?: SessionUser;
};

// Why a session ended: the user logged out (here or in another tab), the
// server's idle or absolute limit passed, or the server ended it (logout
// elsewhere, a password change, a refresh token used twice).
export type EndReason = 'user' | 'expired' | 'revoked';

export type LockManagerLike = { request<T>(name: string, callback: () => Promise<T>): Promise<T> };
export type ChannelLike = {
  postMessage(message: unknown): void;
  close(): void;
  onmessage: ((event: MessageEvent) => void) | null;
};
type StorageLike = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export type SessionDeps = {
  store: TokenStore;
  requestRefresh: () => Promise<TokenAnswer>;
  locks: LockManagerLike | null;
  openChannel: (() => ChannelLike) | null;
  storage: () => StorageLike | null;
  now: () => number;
};

type Hint = { state: 'active'; id: string } | { state: 'ended'; reason: EndReason };
type TokenMessage = { type: 'token'; token: string; expires_in: number | null };

export const HINT_KEY = 'hybrid-storage.session';
const LOCK_NAME = 'hybrid-storage.refresh';
const CHANNEL_NAME = 'hybrid-storage.session';
// The token of versions that kept it in localStorage: removed on sight.
const LEGACY_TOKEN_KEY = 'hybrid-storage.token';
// A failed refresh for another reason than a 401 (offline, a 5xx) is tried
// again after this long while the token lasts.
export const RETRY_MS = 15_000;
// A request is not sent with a token that has less than this left.
const MIN_LEFT_MS = 5_000;

// Codes of a 401 that say the session is over (from refresh, or from the
// auth middleware for a token whose session ended).
const ENDED_CODES: Record<string, EndReason> = { SESSION_EXPIRED: 'expired', SESSION_REVOKED: 'revoked' };

export function endReasonFor(code: string): EndReason {
  return ENDED_CODES[code] ?? 'revoked';
}

// refreshMargin: how long before the token's end it is refreshed: a fifth of
// its life, between 5 s and 1 min (15 min tokens refresh at 14 min, 1 min
// tokens at 48 s).
export function refreshMargin(lifetimeMs: number): number {
  return Math.min(60_000, Math.max(MIN_LEFT_MS, lifetimeMs * 0.2));
}

function parseHint(raw: string | null): Hint | null {
  if (!raw) return null;
  try {
    const h = JSON.parse(raw) as Partial<Hint> & { id?: unknown; reason?: unknown };
    if (h.state === 'active' && typeof h.id === 'string') return { state: 'active', id: h.id };
    if (h.state === 'ended' && (h.reason === 'user' || h.reason === 'expired' || h.reason === 'revoked')) {
      return { state: 'ended', reason: h.reason };
    }
  } catch {
    // not ours
  }
  return null;
}

function randomId(): string {
  const a = new Uint8Array(8);
  crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
}

export type Session = ReturnType<typeof createSession>;

export function createSession(deps: SessionDeps) {
  const { store, now } = deps;
  let inFlight: Promise<string> | null = null;
  let channel: ChannelLike | null = null;
  // The session this tab belongs to (the hint's id), to tell another tab's
  // new login from a refresh.
  let knownId: string | null = null;
  const endedListeners = new Set<(reason: EndReason) => void>();
  const switchedListeners = new Set<() => void>();

  const readHint = (): Hint | null => {
    try {
      return parseHint(deps.storage()?.getItem(HINT_KEY) ?? null);
    } catch {
      return null;
    }
  };
  const writeHint = (h: Hint) => {
    try {
      deps.storage()?.setItem(HINT_KEY, JSON.stringify(h));
    } catch {
      // storage disabled: the session lasts for this page only
    }
  };

  const share = (answer: TokenAnswer) => {
    const message: TokenMessage = { type: 'token', token: answer.access_token, expires_in: answer.expires_in ?? null };
    try {
      channel?.postMessage(message);
    } catch {
      // a closed channel: the other tabs refresh for themselves
    }
  };

  const adopt = (answer: TokenAnswer) => {
    store.set(answer.access_token, answer.expires_in);
    share(answer);
  };

  // end ends the session in this tab; the hint tells the other tabs.
  const end = (reason: EndReason) => {
    const had = store.get() !== null || readHint()?.state === 'active';
    store.clear();
    knownId = null;
    writeHint({ state: 'ended', reason });
    if (had) endedListeners.forEach((l) => l(reason));
  };

  const expiringSoon = () => {
    const at = store.expiresAt();
    return at !== null && at - now() < MIN_LEFT_MS;
  };

  // run: inside the lock. A token that changed while this tab waited (another
  // tab refreshed and shared it), or with unlessFresh one with time left, is
  // used as it is.
  const run = async (before: string | null, unlessFresh: boolean): Promise<string> => {
    const current = store.get();
    if (current !== null && !expiringSoon() && (current !== before || unlessFresh)) return current;
    let answer: TokenAnswer;
    try {
      answer = await deps.requestRefresh();
    } catch (err) {
      const e = toApiError(err);
      if (e.status === 401) end(endReasonFor(e.code));
      throw e;
    }
    adopt(answer);
    const hint = readHint();
    if (hint?.state !== 'active') writeHint({ state: 'active', id: (knownId ??= randomId()) });
    else knownId = hint.id;
    return answer.access_token;
  };

  // refresh gets a new access token (see the top of the file). It rejects
  // with an ApiError; a 401 has ended the session first.
  function refresh({ unlessFresh = false }: { unlessFresh?: boolean } = {}): Promise<string> {
    if (inFlight) return inFlight;
    const before = store.get();
    const go = () => run(before, unlessFresh);
    const p = deps.locks ? deps.locks.request(LOCK_NAME, go) : go();
    inFlight = p.finally(() => {
      inFlight = null;
    });
    return inFlight;
  }

  return {
    // hasSession: the hint says this browser has a session to restore.
    hasSession(): boolean {
      return readHint()?.state === 'active';
    },

    // restore gets the session's token on a page load: null without one
    // (no hint, or the server said 401 — which ends it). Other failures
    // (offline, 5xx) reject: the session may well be alive.
    async restore(): Promise<string | null> {
      try {
        deps.storage()?.removeItem(LEGACY_TOKEN_KEY);
      } catch {
        // nothing to clean
      }
      const hint = readHint();
      if (hint?.state !== 'active') return null;
      knownId = hint.id;
      try {
        return await refresh({ unlessFresh: true });
      } catch (err) {
        const status = (err as ApiError).status;
        if (status === 401) return null; // ended by run()
        // A server without refresh (before sessions): no session to restore.
        if (status === 404 || status === 405) {
          end('expired');
          return null;
        }
        throw err;
      }
    },

    refresh,

    // refreshAfter401: a request sent with token sent got a 401 that a
    // refresh may heal. A token that changed since is used as it is; a
    // session ended meanwhile (a logout) is not refreshed back.
    refreshAfter401(sent: string): Promise<string> {
      const current = store.get();
      if (current !== null && current !== sent) return Promise.resolve(current);
      if (current === null && readHint()?.state !== 'active') {
        return Promise.reject(new Error('the session has ended here'));
      }
      return refresh();
    },

    // ensureFresh: called before each request; a token about to expire is
    // refreshed first (a failure leaves it to the 401 path).
    async ensureFresh(): Promise<void> {
      if (store.get() === null || !expiringSoon()) return;
      await refresh().catch(() => undefined);
    },

    // begin starts a session from the answer of login or signup.
    begin(answer: TokenAnswer): void {
      knownId = randomId();
      writeHint({ state: 'active', id: knownId });
      adopt(answer);
    },

    // end: the user logged out (reason "user"), or the server said the
    // session is over (endFromServer).
    end,

    // endFromServer: a request sent with token sent got 401 with code; it
    // ends the session only if that token is still the current one.
    endFromServer(code: string, sent: string): void {
      if (store.get() === sent) end(endReasonFor(code));
    },

    onEnded(listener: (reason: EndReason) => void): () => void {
      endedListeners.add(listener);
      return () => endedListeners.delete(listener);
    },

    // onSwitched: another tab logged in (maybe as someone else): whatever
    // this tab holds of the previous session is stale.
    onSwitched(listener: () => void): () => void {
      switchedListeners.add(listener);
      return () => switchedListeners.delete(listener);
    },

    // start keeps the session going while the page lives; returns the stop.
    start(): () => void {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const schedule = () => {
        clearTimeout(timer);
        const at = store.expiresAt();
        if (store.get() === null || at === null) return;
        const left = at - now();
        const delay = Math.max(0, left - refreshMargin(left));
        timer = setTimeout(() => {
          refresh({ unlessFresh: false })
            .catch((err: ApiError) => {
              if (err.status === 401) return;
              // Offline or the server is down: try again while the token lasts.
              clearTimeout(timer);
              timer = setTimeout(schedule, RETRY_MS);
            });
        }, delay);
      };
      const unsubscribe = store.subscribe(schedule);
      schedule();

      if (deps.openChannel) {
        try {
          channel = deps.openChannel();
          channel.onmessage = (e: MessageEvent) => {
            const m = e.data as Partial<TokenMessage> | null;
            if (m?.type !== 'token' || typeof m.token !== 'string') return;
            if (readHint()?.state !== 'active') return;
            store.set(m.token, m.expires_in ?? null);
          };
        } catch {
          channel = null;
        }
      }

      const onStorage = (e: StorageEvent) => {
        if (e.key !== HINT_KEY) return;
        const hint = parseHint(e.newValue);
        if (hint?.state === 'active' && hint.id !== knownId) {
          // Another tab logged in: its token comes over the channel, or by
          // a refresh of our own.
          knownId = hint.id;
          switchedListeners.forEach((l) => l());
          void refresh({ unlessFresh: false }).catch(() => undefined);
        } else if (hint?.state === 'ended' && store.get() !== null) {
          store.clear();
          knownId = null;
          endedListeners.forEach((l) => l(hint.reason));
        }
      };
      const onVisible = () => {
        // Timers sleep in background tabs: catch up when the tab shows.
        if (document.visibilityState === 'visible') schedule();
      };
      window.addEventListener('storage', onStorage);
      document.addEventListener('visibilitychange', onVisible);
      return () => {
        clearTimeout(timer);
        unsubscribe();
        channel?.close();
        channel = null;
        window.removeEventListener('storage', onStorage);
        document.removeEventListener('visibilitychange', onVisible);
      };
    },
  };
}

// The requests of the refresh cookie: not through the app's client (its
// 401 handling calls refresh), and with credentials so that the cookie goes
// along also when the API is on another origin.
export const authHttp = axios.create({
  baseURL: env.API_BASE_URL,
  withCredentials: true,
  headers: { Accept: 'application/json' },
});

async function requestRefresh(): Promise<TokenAnswer> {
  const { data } = await authHttp.post<TokenAnswer>('/api/auth/refresh', {});
  if (!data || typeof data.access_token !== 'string') throw new Error('The server answered a refresh without a token.');
  return data;
}

// The page's one session.
export const session = createSession({
  store: tokenStore,
  requestRefresh,
  locks: typeof navigator !== 'undefined' && navigator.locks ? (navigator.locks as LockManagerLike) : null,
  openChannel: typeof BroadcastChannel !== 'undefined' ? () => new BroadcastChannel(CHANNEL_NAME) : null,
  storage: () => (typeof window !== 'undefined' ? window.localStorage : null),
  now: () => Date.now(),
});
