import { describe, expect, it, vi } from 'vitest';
import { http, HttpResponse } from 'msw';
import { waitFor } from '@testing-library/react';

import { getToken, setToken } from '@/lib/auth-token';
import { createUser, makeToken } from '@/testing/mock-db';
import { server } from '@/testing/server';
import { logIn, renderApp, screen } from '@/testing/test-utils';

describe('AuthContext', () => {
  it('loads the user from GET /api/auth/me when a token is stored', async () => {
    logIn(createUser('grace@example.com'));
    renderApp('/dashboard');
    expect(await screen.findByText('grace@example.com')).toBeInTheDocument();
  });

  it('logs out on any 401 and sends the user to /login with the return path', async () => {
    logIn();
    const { router, queryClient } = renderApp('/dashboard?tab=1');
    await screen.findByRole('heading', { name: 'Your files' });
    // The token is revoked server-side: the next files refresh answers 401.
    server.use(
      http.get('/api/files', () => HttpResponse.json({ detail: 'token expired', error_code: 'TOKEN_EXPIRED' }, { status: 401 })),
    );
    await queryClient.invalidateQueries({ queryKey: ['files'] });
    expect(await screen.findByRole('button', { name: 'Log in' })).toBeInTheDocument();
    expect(getToken()).toBeNull();
    expect(router.state.location.pathname).toBe('/login');
    expect(router.state.location.search).toBe('?redirectTo=%2Fdashboard%3Ftab%3D1');
    expect(await screen.findByText('Your session has ended. Please log in again.')).toBeInTheDocument();
  });

  it('treats a stored token that already expired as logged out, without calling the server', async () => {
    const u = createUser();
    setToken(makeToken(u.id, Date.now() - 1000));
    let meCalls = 0;
    server.use(
      http.get('/api/auth/me', () => {
        meCalls += 1;
        return HttpResponse.json({ id: u.id, email: u.email });
      }),
    );
    const { router } = renderApp('/dashboard');
    expect(await screen.findByRole('button', { name: 'Log in' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/login');
    expect(getToken()).toBeNull();
    expect(meCalls).toBe(0);
  });

  it('schedules a logout at the JWT exp time', async () => {
    const u = createUser();
    const exp = Date.now() + 3600_000;
    setToken(makeToken(u.id, exp));
    let meCalls = 0;
    server.events.on('response:mocked', ({ request, response }) => {
      if (new URL(request.url).pathname === '/api/auth/me' && response.status === 200) meCalls += 1;
    });
    // Pretend the clock is 1.5 s before expiry: the token is valid now and
    // the scheduled logout follows shortly, without any request failing.
    const realNow = Date.now.bind(Date);
    const skew = exp - 1500 - realNow();
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + skew);
    const { router } = renderApp('/dashboard');
    await waitFor(() => expect(meCalls).toBeGreaterThan(0));
    expect(getToken()).not.toBeNull();
    await waitFor(() => expect(getToken()).toBeNull(), { timeout: 8000 });
    expect(await screen.findByText('Your session expired. Please log in again.')).toBeInTheDocument();
    expect(await screen.findByRole('button', { name: 'Log in' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/login');
    server.events.removeAllListeners();
  });

  it('the Log out button clears the session and protected pages redirect to /login', async () => {
    logIn(createUser('ada@example.com'));
    const { user, router } = renderApp('/dashboard');
    await user.click(await screen.findByRole('button', { name: 'Log out' }));
    expect(await screen.findByRole('button', { name: 'Log in' })).toBeInTheDocument();
    expect(getToken()).toBeNull();
    // Logging out on purpose lands on a plain /login, no return path.
    expect(router.state.location.pathname).toBe('/login');
    expect(router.state.location.search).toBe('');
    await router.navigate('/dashboard');
    await waitFor(() => expect(router.state.location.pathname).toBe('/login'));
  });
});
