import { describe, expect, it } from 'vitest';
import { http, HttpResponse } from 'msw';

import { waitFor } from '@testing-library/react';

import { getToken } from '@/lib/auth-token';
import { createUser } from '@/testing/mock-db';
import { server } from '@/testing/server';
import { renderApp, screen } from '@/testing/test-utils';

describe('LoginPage', () => {
  it('requires email and password before calling the server', async () => {
    const { user } = renderApp('/login');
    await user.click(await screen.findByRole('button', { name: 'Log in' }));
    expect(screen.getByText('Email is required')).toBeInTheDocument();
    expect(screen.getByText('Password is required')).toBeInTheDocument();
    expect(getToken()).toBeNull();
  });

  it('shows one message for wrong credentials', async () => {
    createUser('ada@example.com', 'right password');
    const { user } = renderApp('/login');
    await user.type(await screen.findByLabelText('Email'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), 'wrong password');
    await user.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Invalid email or password.');
    expect(getToken()).toBeNull();
  });

  it('shows 429 RATE_LIMITED as a message', async () => {
    server.use(
      http.post('/api/auth/login', () =>
        HttpResponse.json({ detail: 'too many', error_code: 'RATE_LIMITED' }, { status: 429, headers: { 'Retry-After': '12' } }),
      ),
    );
    const { user } = renderApp('/login');
    await user.type(await screen.findByLabelText('Email'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), 'whatever1');
    await user.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Too many attempts. Try again in 12 seconds.');
  });

  it('shows 503 SERVICE_UNAVAILABLE (the login queue is full) as a busy server', async () => {
    server.use(
      http.post('/api/auth/login', () =>
        HttpResponse.json(
          { detail: 'too many logins waiting for a password check', error_code: 'SERVICE_UNAVAILABLE' },
          { status: 503, headers: { 'Retry-After': '2' } },
        ),
      ),
    );
    const { user } = renderApp('/login');
    await user.type(await screen.findByLabelText('Email'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), 'whatever1');
    await user.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(/^The server is busy\. Try again in a few seconds\.$/);
    expect(getToken()).toBeNull();
    // The form stays usable for the next try.
    expect(screen.getByRole('button', { name: 'Log in' })).toBeEnabled();
  });

  it('logs in, stores the token and returns to the page the user asked for', async () => {
    createUser('ada@example.com', 'right password');
    // Visiting a protected page while logged out keeps the return path.
    const { user, router } = renderApp('/dashboard?from=mail');
    await screen.findByRole('button', { name: 'Log in' });
    expect(router.state.location.pathname).toBe('/login');
    expect(router.state.location.search).toBe('?redirectTo=%2Fdashboard%3Ffrom%3Dmail');

    await user.type(screen.getByLabelText('Email'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), 'right password');
    await user.click(screen.getByRole('button', { name: 'Log in' }));

    expect(await screen.findByRole('heading', { name: 'Your files' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/dashboard');
    expect(router.state.location.search).toBe('?from=mail');
    expect(getToken()).toMatch(/^ey/);
    // The navbar shows who is signed in (from GET /api/auth/me).
    expect(screen.getByRole('navigation', { name: 'Main' })).toHaveTextContent('ada@example.com');
  });

  it('never redirects to another origin after login', async () => {
    createUser('ada@example.com', 'right password');
    const { user, router } = renderApp('/login?redirectTo=%2F%2Fevil.example%2Fx');
    await user.type(await screen.findByLabelText('Email'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), 'right password');
    await user.click(screen.getByRole('button', { name: 'Log in' }));
    await screen.findByRole('heading', { name: 'Your files' });
    expect(router.state.location.pathname).toBe('/dashboard');
  });

  it('asks for the two-factor code when the server answers TOTP_REQUIRED, then logs in with it', async () => {
    const u = createUser('ada@example.com', 'right password');
    u.totp = { enabled: true, code: '123456', recovery: ['rc1-aaaa-bbbb'] };
    const { user, router } = renderApp('/login');
    await user.type(await screen.findByLabelText('Email'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), 'right password');
    await user.click(screen.getByRole('button', { name: 'Log in' }));
    const code = await screen.findByLabelText('Authentication code');
    expect(code).toHaveFocus();
    expect(code).toHaveAttribute('autocomplete', 'one-time-code');
    expect(getToken()).toBeNull();

    await user.keyboard('654321{Enter}');
    expect(await screen.findByText(/That code is not correct/)).toBeInTheDocument();
    expect(code).toHaveAccessibleDescription(/not correct/);

    await user.clear(code);
    await user.keyboard('123 456{Enter}');
    await waitFor(() => expect(router.state.location.pathname).toBe('/dashboard'));
    expect(getToken()).toMatch(/^ey/);
  });

  it('takes a recovery code instead, once', async () => {
    const u = createUser('ada@example.com', 'right password');
    u.totp = { enabled: true, code: '123456', recovery: ['rc1-aaaa-bbbb'] };
    const { user, router } = renderApp('/login');
    await user.type(await screen.findByLabelText('Email'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), 'right password');
    await user.click(screen.getByRole('button', { name: 'Log in' }));
    await user.click(await screen.findByRole('button', { name: 'Use a recovery code' }));
    const code = screen.getByLabelText('Recovery code');
    expect(code).toHaveFocus();
    await user.keyboard('rc1-aaaa-bbbb{Enter}');
    await waitFor(() => expect(router.state.location.pathname).toBe('/dashboard'));
    expect(u.totp.recovery).toEqual([]);
  });

  it('links to the forgotten password page', async () => {
    const { user, router } = renderApp('/login');
    await user.click(await screen.findByRole('link', { name: 'Forgot password?' }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/forgot-password'));
  });
});
