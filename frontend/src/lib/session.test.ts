import { afterEach, describe, expect, it, vi } from 'vitest';

import { ApiError } from '@/lib/api-error';
import { createTokenStore } from '@/lib/auth-token';
import { createSession, HINT_KEY, refreshMargin, type ChannelLike, type LockManagerLike, type TokenAnswer } from '@/lib/session';

// Two "tabs" of one browser: each its own token store and session, sharing
// localStorage (the hint), a Web Locks manager, a BroadcastChannel and the
// server (whose refresh cookie rotates on every refresh).

function fakeLocks(): LockManagerLike {
  const tails = new Map<string, Promise<unknown>>();
  return {
    request<T>(name: string, callback: () => Promise<T>): Promise<T> {
      const prev = tails.get(name) ?? Promise.resolve();
      const run = prev.then(callback, callback);
      tails.set(name, run.catch(() => undefined));
      return run;
    },
  };
}

function fakeChannelHub() {
  const members = new Set<ChannelLike>();
  return () => {
    const ch: ChannelLike = {
      onmessage: null,
      postMessage(message) {
        for (const other of members) {
          if (other !== ch) queueMicrotask(() => other.onmessage?.({ data: message } as MessageEvent));
        }
      },
      close() {
        members.delete(ch);
      },
    };
    members.add(ch);
    return ch;
  };
}

function fakeServer() {
  let serial = 0;
  const server = {
    calls: 0,
    // What the next refresh answers: a token, or an error.
    fail: null as ApiError | null,
    delayMs: 0,
    async refresh(): Promise<TokenAnswer> {
      server.calls += 1;
      if (server.delayMs) await new Promise((r) => setTimeout(r, server.delayMs));
      if (server.fail) throw server.fail;
      return { access_token: `token-${++serial}`, expires_in: 900 };
    },
  };
  return server;
}

function tab(server: ReturnType<typeof fakeServer>, shared: { locks: LockManagerLike | null; openChannel: (() => ChannelLike) | null }) {
  const store = createTokenStore();
  const session = createSession({
    store,
    requestRefresh: server.refresh,
    locks: shared.locks,
    openChannel: shared.openChannel,
    storage: () => window.localStorage,
    now: () => Date.now(),
  });
  return { store, session };
}

const stops: (() => void)[] = [];
afterEach(() => stops.splice(0).forEach((s) => s()));

describe('session refresh', () => {
  it('makes one refresh for concurrent callers in a tab', async () => {
    const server = fakeServer();
    server.delayMs = 10;
    const { session, store } = tab(server, { locks: null, openChannel: null });
    session.begin({ access_token: 'login-token', expires_in: 900 });
    const got = await Promise.all([session.refresh(), session.refresh(), session.refreshAfter401('login-token')]);
    expect(server.calls).toBe(1);
    expect(new Set(got)).toEqual(new Set(['token-1']));
    expect(store.get()).toBe('token-1');
  });

  it('makes one refresh across tabs: the tab that waited for the lock takes the token the other shared', async () => {
    const server = fakeServer();
    server.delayMs = 20;
    const shared = { locks: fakeLocks(), openChannel: fakeChannelHub() };
    const a = tab(server, shared);
    const b = tab(server, shared);
    stops.push(a.session.start(), b.session.start());
    a.session.begin({ access_token: 'login-token', expires_in: 900 });
    // B got the login's token over the channel.
    await vi.waitFor(() => expect(b.store.get()).toBe('login-token'));
    // Both see the token refused at once (e.g. both woke from sleep).
    const [ta, tb] = await Promise.all([a.session.refreshAfter401('login-token'), b.session.refreshAfter401('login-token')]);
    expect(server.calls).toBe(1);
    expect(ta).toBe('token-1');
    expect(tb).toBe('token-1');
  });

  it('without Web Locks each tab refreshes alone (the server tolerates concurrent refreshes)', async () => {
    const server = fakeServer();
    const a = tab(server, { locks: null, openChannel: null });
    const b = tab(server, { locks: null, openChannel: null });
    a.session.begin({ access_token: 'x', expires_in: 900 });
    b.store.set('x', 900);
    await Promise.all([a.session.refresh(), b.session.refresh()]);
    expect(server.calls).toBe(2);
  });

  it('a refresh answered 401 SESSION_REVOKED ends the session here, and the hint ends it in other tabs', async () => {
    const server = fakeServer();
    const { session, store } = tab(server, { locks: null, openChannel: null });
    session.begin({ access_token: 'x', expires_in: 900 });
    const ended = vi.fn();
    session.onEnded(ended);
    server.fail = new ApiError('revoked', 401, 'SESSION_REVOKED');
    await expect(session.refresh()).rejects.toMatchObject({ code: 'SESSION_REVOKED' });
    expect(store.get()).toBeNull();
    expect(ended).toHaveBeenCalledWith('revoked');
    expect(JSON.parse(window.localStorage.getItem(HINT_KEY)!)).toEqual({ state: 'ended', reason: 'revoked' });
    expect(session.hasSession()).toBe(false);
  });

  it('a refresh that fails otherwise (offline, 5xx) keeps the session', async () => {
    const server = fakeServer();
    const { session, store } = tab(server, { locks: null, openChannel: null });
    session.begin({ access_token: 'x', expires_in: 900 });
    const ended = vi.fn();
    session.onEnded(ended);
    server.fail = new ApiError('Cannot reach the server.', 0, 'NETWORK_ERROR');
    await expect(session.refresh()).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    expect(store.get()).toBe('x');
    expect(ended).not.toHaveBeenCalled();
    expect(session.hasSession()).toBe(true);
  });

  it('refreshAfter401 uses a token that changed since the request was sent', async () => {
    const server = fakeServer();
    const { session, store } = tab(server, { locks: null, openChannel: null });
    session.begin({ access_token: 'new', expires_in: 900 });
    await expect(session.refreshAfter401('old')).resolves.toBe('new');
    expect(server.calls).toBe(0);
    expect(store.get()).toBe('new');
  });

  it('refreshes shortly before the token expires, again and again', async () => {
    vi.useFakeTimers();
    const server = fakeServer();
    const { session, store } = tab(server, { locks: null, openChannel: null });
    stops.push(session.start());
    session.begin({ access_token: 'x', expires_in: 60 });
    // A 60 s token is refreshed 12 s before its end.
    expect(refreshMargin(60_000)).toBe(12_000);
    await vi.advanceTimersByTimeAsync(47_000);
    expect(server.calls).toBe(0);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(server.calls).toBe(1);
    expect(store.get()).toBe('token-1');
    // The next one 15 min later (900 s tokens: a minute before their end).
    await vi.advanceTimersByTimeAsync(840_000);
    expect(server.calls).toBe(2);
  });

  it('tries again after a failed scheduled refresh that was not a 401', async () => {
    vi.useFakeTimers();
    const server = fakeServer();
    const { session, store } = tab(server, { locks: null, openChannel: null });
    stops.push(session.start());
    session.begin({ access_token: 'x', expires_in: 120 });
    server.fail = new ApiError('offline', 0, 'NETWORK_ERROR');
    await vi.advanceTimersByTimeAsync(100_000);
    expect(server.calls).toBe(1);
    server.fail = null;
    await vi.advanceTimersByTimeAsync(15_000);
    expect(server.calls).toBe(2);
    expect(store.get()).toBe('token-1');
  });

  it('restores the session on a page load only when the hint says there is one', async () => {
    const server = fakeServer();
    const first = tab(server, { locks: null, openChannel: null });
    await expect(first.session.restore()).resolves.toBeNull();
    expect(server.calls).toBe(0);

    first.session.begin({ access_token: 'x', expires_in: 900 });
    // A reload: a new page with an empty store.
    const reloaded = tab(server, { locks: null, openChannel: null });
    await expect(reloaded.session.restore()).resolves.toBe('token-1');
    expect(reloaded.store.get()).toBe('token-1');
  });

  it('a restore answered 401 ends the stale hint; the page is logged out', async () => {
    const server = fakeServer();
    tab(server, { locks: null, openChannel: null }).session.begin({ access_token: 'x', expires_in: 900 });
    const reloaded = tab(server, { locks: null, openChannel: null });
    server.fail = new ApiError('expired', 401, 'SESSION_EXPIRED');
    await expect(reloaded.session.restore()).resolves.toBeNull();
    expect(reloaded.session.hasSession()).toBe(false);
  });

  it('removes the token older versions kept in localStorage', async () => {
    window.localStorage.setItem('hybrid-storage.token', 'old.jwt.token');
    const server = fakeServer();
    await tab(server, { locks: null, openChannel: null }).session.restore();
    expect(window.localStorage.getItem('hybrid-storage.token')).toBeNull();
  });

  it('a logout in another tab ends this one (storage event on the hint)', async () => {
    const server = fakeServer();
    const a = tab(server, { locks: null, openChannel: null });
    const b = tab(server, { locks: null, openChannel: null });
    stops.push(b.session.start());
    a.session.begin({ access_token: 'x', expires_in: 900 });
    b.store.set('x', 900);
    const ended = vi.fn();
    b.session.onEnded(ended);
    a.session.end('user');
    window.dispatchEvent(new StorageEvent('storage', { key: HINT_KEY, newValue: window.localStorage.getItem(HINT_KEY) }));
    expect(b.store.get()).toBeNull();
    expect(ended).toHaveBeenCalledWith('user');
  });

  it('a login in another tab reaches this one: its token over the channel, and onSwitched', async () => {
    const server = fakeServer();
    const shared = { locks: fakeLocks(), openChannel: fakeChannelHub() };
    const a = tab(server, shared);
    const b = tab(server, shared);
    stops.push(a.session.start(), b.session.start());
    const switched = vi.fn();
    b.session.onSwitched(switched);
    a.session.begin({ access_token: 'login-token', expires_in: 900 });
    window.dispatchEvent(new StorageEvent('storage', { key: HINT_KEY, newValue: window.localStorage.getItem(HINT_KEY) }));
    expect(switched).toHaveBeenCalledTimes(1);
    await vi.waitFor(() => expect(b.store.get()).not.toBeNull());
  });

  it('ensureFresh refreshes a token about to expire before a request goes out', async () => {
    const server = fakeServer();
    const { session, store } = tab(server, { locks: null, openChannel: null });
    session.begin({ access_token: 'x', expires_in: 2 });
    await session.ensureFresh();
    expect(server.calls).toBe(1);
    expect(store.get()).toBe('token-1');
    await session.ensureFresh();
    expect(server.calls).toBe(1);
  });
});
