import { http, HttpResponse } from 'msw';
import { describe, expect, it, vi } from 'vitest';

import { api, whenSettled } from '@/lib/api-client';
import { getToken } from '@/lib/auth-token';
import { session } from '@/lib/session';
import { createUser, db, makeToken, startSession } from '@/testing/mock-db';
import { holdGet } from '@/testing/hold';
import { server } from '@/testing/server';

// The retry-once-on-401 interceptor against the mock server's sessions.

function countRefreshes() {
  const calls = { n: 0 };
  server.events.on('request:start', ({ request }) => {
    if (new URL(request.url).pathname === '/api/auth/refresh') calls.n += 1;
  });
  return calls;
}

// A session whose access token has expired (the server refuses it) while
// its refresh cookie is good.
function expiredSession() {
  const user = createUser();
  const { session: s } = startSession(user);
  session.begin({ access_token: makeToken(user.id, Date.now() + 60_000, s.id), expires_in: 60 });
  // The server's clock says otherwise: the token it sees has expired.
  server.use(
    http.get('/api/auth/me', ({ request }) =>
      request.headers.get('Authorization') === `Bearer ${stale}`
        ? HttpResponse.json({ detail: 'token expired', error_code: 'TOKEN_EXPIRED' }, { status: 401 })
        : HttpResponse.json({ id: user.id, email: user.email }),
    ),
  );
  const stale = getToken()!;
  return { user, stale };
}

describe('api client: refresh once on a 401 and retry', () => {
  it('refreshes and retries the request with the new token', async () => {
    const { user, stale } = expiredSession();
    const refreshes = countRefreshes();
    const { data } = await api.get('/api/auth/me');
    expect(data).toEqual({ id: user.id, email: user.email });
    expect(refreshes.n).toBe(1);
    expect(getToken()).not.toBe(stale);
  });

  it('makes one refresh for many requests refused at once', async () => {
    expiredSession();
    const refreshes = countRefreshes();
    const answers = await Promise.all([api.get('/api/auth/me'), api.get('/api/auth/me'), api.get('/api/auth/me')]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(refreshes.n).toBe(1);
  });

  it('sends an upload again with its body after the refresh', async () => {
    const { user, stale } = expiredSession();
    const bodies: string[] = [];
    server.use(
      http.post('/api/files/upload', async ({ request }) => {
        const form = await request.formData();
        bodies.push(await (form.get('file') as File).text());
        if (request.headers.get('Authorization') === `Bearer ${stale}`) {
          return HttpResponse.json({ detail: 'token expired', error_code: 'TOKEN_EXPIRED' }, { status: 401 });
        }
        return HttpResponse.json({ id: 1, owner: user.id }, { status: 201 });
      }),
    );
    const form = new FormData();
    form.append('file', new File(['hello'], 'a.txt'));
    const res = await api.post('/api/files/upload', form);
    expect(res.status).toBe(201);
    expect(bodies).toEqual(['hello', 'hello']);
  });

  it('ends the session when the refresh is refused (SESSION_REVOKED) and rejects the request', async () => {
    expiredSession();
    db.sessions[0].ended = 'revoked';
    const ended = vi.fn();
    const stop = session.onEnded(ended);
    await expect(api.get('/api/auth/me')).rejects.toMatchObject({ status: 401 });
    stop();
    expect(ended).toHaveBeenCalledWith('revoked');
    expect(getToken()).toBeNull();
  });

  it('does not loop: a request refused again after the refresh ends the session', async () => {
    logInForever();
    server.use(http.get('/api/files', () => HttpResponse.json({ detail: 'no', error_code: 'UNAUTHORIZED' }, { status: 401 })));
    const refreshes = countRefreshes();
    await expect(api.get('/api/files')).rejects.toMatchObject({ status: 401 });
    expect(refreshes.n).toBe(1);
    expect(getToken()).toBeNull();
  });

  it('ends the session at once on 401 SESSION_REVOKED from the API, without a refresh', async () => {
    logInForever();
    server.use(http.get('/api/files', () => HttpResponse.json({ detail: 'ended', error_code: 'SESSION_REVOKED' }, { status: 401 })));
    const refreshes = countRefreshes();
    await expect(api.get('/api/files')).rejects.toMatchObject({ code: 'SESSION_REVOKED' });
    expect(refreshes.n).toBe(0);
    expect(getToken()).toBeNull();
  });

  it('leaves the session alone on a 401 about what was typed (INVALID_CREDENTIALS)', async () => {
    logInForever();
    const token = getToken();
    const refreshes = countRefreshes();
    await expect(api.delete('/api/auth/me', { data: { password: 'wrong' } })).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect(refreshes.n).toBe(0);
    expect(getToken()).toBe(token);
  });

  it('does not refresh a session this tab ended while a request was under way (a logout)', async () => {
    logInForever();
    const held = holdGet('/api/files', () => HttpResponse.json({ detail: 'no', error_code: 'UNAUTHORIZED' }, { status: 401 }));
    const refreshes = countRefreshes();
    const request = api.get('/api/files');
    await held.arrived;
    session.end('user');
    held.release();
    await expect(request).rejects.toMatchObject({ status: 401 });
    expect(refreshes.n).toBe(0);
  });

  it('whenSettled waits for the requests under way, and no longer than it is told', async () => {
    logInForever();
    let held = holdGet('/api/files', () => HttpResponse.json({ files: [] }));
    const request = api.get('/api/files');
    await held.arrived;
    let settled = false;
    const waiting = whenSettled(10_000).then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
    held.release();
    await request;
    await waiting;
    expect(settled).toBe(true);

    held = holdGet('/api/files', () => HttpResponse.json({ files: [] }));
    const slow = api.get('/api/files');
    await held.arrived;
    const t0 = performance.now();
    await whenSettled(100); // resolves though the request is still held
    // (Timers may fire a millisecond early on the clock that measures them.)
    expect(performance.now() - t0).toBeGreaterThanOrEqual(95);
    held.release();
    await slow;
  });

  it('refreshes before sending when the token is about to expire', async () => {
    const user = createUser();
    const { session: s } = startSession(user);
    session.begin({ access_token: makeToken(user.id, Date.now() + 2_000, s.id), expires_in: 2 });
    const sent: (string | null)[] = [];
    server.events.on('request:start', ({ request }) => sent.push(`${new URL(request.url).pathname} ${request.headers.get('Authorization') ?? ''}`));
    const before = getToken();
    await api.get('/api/auth/me');
    expect(sent[0]).toBe('/api/auth/refresh ');
    expect(sent[1]).toBe(`/api/auth/me Bearer ${getToken()}`);
    expect(getToken()).not.toBe(before);
  });
});

function logInForever() {
  const user = createUser();
  session.begin(startSession(user).answer);
  return user;
}
