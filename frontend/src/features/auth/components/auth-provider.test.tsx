import { describe, expect, it } from 'vitest';
import { http, HttpResponse } from 'msw';
import { waitFor } from '@testing-library/react';

import { api } from '@/lib/api-client';
import { getToken } from '@/lib/auth-token';
import { HINT_KEY } from '@/lib/session';
import { createUser, db, startSession } from '@/testing/mock-db';
import { holdGet } from '@/testing/hold';
import { server } from '@/testing/server';
import { logIn, renderApp, screen } from '@/testing/test-utils';

// A page load in a browser that has a session: the hint in localStorage and
// the refresh cookie (the mock server's db.cookie), no token in memory.
function reloadWithSession(email = 'grace@example.com') {
  const user = createUser(email);
  startSession(user);
  window.localStorage.setItem(HINT_KEY, JSON.stringify({ state: 'active', id: 'abc' }));
  return user;
}

describe('AuthContext', () => {
  it('loads the user from GET /api/auth/me when logged in', async () => {
    logIn(createUser('grace@example.com'));
    renderApp('/dashboard');
    expect(await screen.findByText('grace@example.com')).toBeInTheDocument();
  });

  it('restores the session on a page load by POST /api/auth/refresh; nothing is in localStorage but the hint', async () => {
    reloadWithSession();
    renderApp('/dashboard');
    expect(await screen.findByText('grace@example.com')).toBeInTheDocument();
    expect(getToken()).toMatch(/^ey/);
    const stored = Object.keys(window.localStorage).map((k) => window.localStorage.getItem(k)).join(' ');
    expect(stored).not.toContain(getToken()!);
  });

  it('a visitor without a session goes to /login without asking the server', async () => {
    let refreshes = 0;
    server.events.on('request:start', ({ request }) => {
      if (new URL(request.url).pathname === '/api/auth/refresh') refreshes += 1;
    });
    const { router } = renderApp('/dashboard');
    expect(await screen.findByRole('button', { name: 'Log in' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/login');
    expect(refreshes).toBe(0);
  });

  it('a session that expired on the server ends at load: /login with the return path and a message', async () => {
    reloadWithSession();
    db.sessions[0].ended = 'expired';
    const { router } = renderApp('/dashboard?tab=1');
    expect(await screen.findByRole('button', { name: 'Log in' })).toBeInTheDocument();
    expect(router.state.location.search).toBe('?redirectTo=%2Fdashboard%3Ftab%3D1');
    expect(await screen.findByText('Your session expired. Please log in again.')).toBeInTheDocument();
  });

  it('says so when the session cannot be restored for another reason (offline), with Retry', async () => {
    reloadWithSession();
    server.use(http.post('/api/auth/refresh', () => HttpResponse.error()));
    const { user } = renderApp('/dashboard');
    expect(await screen.findByText('Could not load your account')).toBeInTheDocument();
    server.resetHandlers();
    await user.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByText('grace@example.com')).toBeInTheDocument();
  });

  it('a session ended elsewhere (logout of other devices) ends here on the next request', async () => {
    logIn();
    const { router, queryClient } = renderApp('/dashboard?tab=1');
    await screen.findByRole('heading', { name: 'Your files' });
    // Another device logged this one out: the token and the cookie are refused.
    db.sessions[0].ended = 'revoked';
    await queryClient.invalidateQueries({ queryKey: ['files'] });
    expect(await screen.findByRole('button', { name: 'Log in' })).toBeInTheDocument();
    expect(getToken()).toBeNull();
    expect(router.state.location.pathname).toBe('/login');
    expect(router.state.location.search).toBe('?redirectTo=%2Fdashboard%3Ftab%3D1');
    expect(await screen.findByText('Your session has ended. Please log in again.')).toBeInTheDocument();
  });

  it('an expired access token is refreshed without the user noticing', async () => {
    const user = logIn();
    const { queryClient } = renderApp('/dashboard');
    await screen.findByRole('heading', { name: 'Your files' });
    const before = getToken();
    // The server now refuses the token in memory (it expired); the cookie is good.
    server.use(
      http.get('/api/files', ({ request }) =>
        request.headers.get('Authorization') === `Bearer ${before}`
          ? HttpResponse.json({ detail: 'token expired', error_code: 'TOKEN_EXPIRED' }, { status: 401 })
          : HttpResponse.json({ files: [], next_cursor: null }),
      ),
    );
    await queryClient.invalidateQueries({ queryKey: ['files'] });
    await waitFor(() => expect(getToken()).not.toBe(before));
    expect(screen.getByText(user.email)).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Log in' })).not.toBeInTheDocument();
  });

  it('the Log out button ends the session on the server and protected pages redirect to /login', async () => {
    logIn(createUser('ada@example.com'));
    const { user, router } = renderApp('/dashboard');
    await user.click(await screen.findByRole('button', { name: 'Log out' }));
    expect(await screen.findByRole('button', { name: 'Log in' })).toBeInTheDocument();
    expect(getToken()).toBeNull();
    await waitFor(() => expect(db.sessions[0].ended).toBe('revoked'));
    expect(db.cookie).toBeNull();
    // Logging out on purpose lands on a plain /login, no return path.
    expect(router.state.location.pathname).toBe('/login');
    expect(router.state.location.search).toBe('');
    await router.navigate('/dashboard');
    await waitFor(() => expect(router.state.location.pathname).toBe('/login'));
  });

  it('a logout ends the session here at once and on the server once the requests under way have answered', async () => {
    logIn(createUser('ada@example.com'));
    const { user } = renderApp('/dashboard');
    await screen.findByRole('heading', { name: 'Your files' });
    const held = holdGet('/api/auth/sessions', () => HttpResponse.json({ sessions: [] }));
    const underWay = api.get('/api/auth/sessions');
    await held.arrived;
    await user.click(screen.getByRole('button', { name: 'Log out' }));
    expect(await screen.findByRole('button', { name: 'Log in' })).toBeInTheDocument();
    expect(getToken()).toBeNull();
    await new Promise((r) => setTimeout(r, 100));
    expect(db.sessions[0].ended).toBeFalsy();
    held.release();
    expect((await underWay).status).toBe(200);
    await waitFor(() => expect(db.sessions[0].ended).toBe('revoked'));
  });

  it('a logout in another tab logs this one out', async () => {
    logIn();
    const { router } = renderApp('/dashboard');
    await screen.findByRole('heading', { name: 'Your files' });
    const value = JSON.stringify({ state: 'ended', reason: 'user' });
    window.localStorage.setItem(HINT_KEY, value);
    window.dispatchEvent(new StorageEvent('storage', { key: HINT_KEY, newValue: value }));
    expect(await screen.findByRole('button', { name: 'Log in' })).toBeInTheDocument();
    expect(router.state.location.search).toBe('');
  });
});
