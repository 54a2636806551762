import { describe, expect, it } from 'vitest';
import { http, HttpResponse } from 'msw';

import { waitFor } from '@testing-library/react';

import { getToken } from '@/lib/auth-token';
import { createUser, db } from '@/testing/mock-db';
import { server } from '@/testing/server';
import { renderApp, screen } from '@/testing/test-utils';

describe('SignupPage', () => {
  it('validates inline: bad email on blur, short password, clears when fixed', async () => {
    const { user } = renderApp('/signup');
    const email = await screen.findByLabelText('Email');
    await user.type(email, 'not-an-email');
    await user.tab();
    expect(await screen.findByText('Enter a valid email address')).toBeInTheDocument();
    expect(email).toHaveAttribute('aria-invalid', 'true');

    await user.clear(email);
    await user.type(email, 'ada@example.com');
    expect(screen.queryByText('Enter a valid email address')).not.toBeInTheDocument();

    const password = screen.getByLabelText('Password');
    await user.type(password, 'short');
    await user.tab();
    expect(screen.getByText('Password must be at least 8 characters')).toBeInTheDocument();
  });

  it('counts the maximum in UTF-8 bytes and the minimum in characters, as the server says', async () => {
    const { user } = renderApp('/signup');
    const password = await screen.findByLabelText('Password');
    await screen.findByText(/At least 8 characters/);
    await user.type(password, '€x'.repeat(18) + '€'); // 75 bytes
    await user.tab();
    expect(screen.getByText(/at most 72 bytes \(yours is 75\)/)).toBeInTheDocument();
    await user.clear(password);
    // 4 characters of 3 bytes = 12 bytes: still under 8 characters.
    await user.type(password, '€x€y');
    expect(screen.getByText('Password must be at least 8 characters')).toBeInTheDocument();
  });

  it("says a common password is refused before sending it (the server's blocklist)", async () => {
    let calls = 0;
    let loaded = false;
    server.events.on('request:start', ({ request }) => {
      if (new URL(request.url).pathname === '/api/auth/signup') calls += 1;
    });
    server.events.on('response:mocked', ({ request }) => {
      if (new URL(request.url).pathname === '/api/auth/password-blocklist') loaded = true;
    });
    const { user } = renderApp('/signup');
    await user.type(await screen.findByLabelText('Email'), 'ada@example.com');
    const password = screen.getByLabelText('Password');
    // The list arrives with the page (GET /api/config names it).
    await waitFor(() => expect(loaded).toBe(true));
    await user.type(password, 'Password1');
    await user.tab();
    expect(password).toHaveAccessibleDescription(/too common/);
    await user.click(screen.getByRole('button', { name: 'Create account' }));
    expect(calls).toBe(0);
  });

  it('shows a live password-strength meter', async () => {
    const { user } = renderApp('/signup');
    const password = await screen.findByLabelText('Password');
    const meter = screen.getByRole('meter', { name: 'Password strength' });
    expect(meter).toHaveAttribute('aria-valuenow', '0');
    await user.type(password, 'abcdefgh');
    expect(meter).toHaveAttribute('aria-valuetext', 'Weak');
    await user.clear(password);
    await user.type(password, 'Tr0ub4dor&3-horse-staple');
    expect(meter).toHaveAttribute('aria-valuetext', 'Strong');
  });

  it('does not call the server while the form is invalid', async () => {
    let calls = 0;
    server.use(
      http.post('/api/auth/signup', () => {
        calls += 1;
        return HttpResponse.json({}, { status: 201 });
      }),
    );
    const { user } = renderApp('/signup');
    await user.click(await screen.findByRole('button', { name: 'Create account' }));
    expect(screen.getByText('Email is required')).toBeInTheDocument();
    expect(screen.getByText('Password is required')).toBeInTheDocument();
    expect(calls).toBe(0);
  });

  it('shows 409 EMAIL_TAKEN under the email field', async () => {
    createUser('taken@example.com');
    const { user } = renderApp('/signup');
    await user.type(await screen.findByLabelText('Email'), 'taken@example.com');
    await user.type(screen.getByLabelText('Password'), 'a good password');
    await user.click(screen.getByRole('button', { name: 'Create account' }));
    const email = screen.getByLabelText('Email');
    expect(await screen.findByText('An account with this email already exists.')).toBeInTheDocument();
    expect(email).toHaveAccessibleDescription(/already exists/);
  });

  it('shows 429 RATE_LIMITED as a message with the wait', async () => {
    server.use(
      http.post('/api/auth/signup', () =>
        HttpResponse.json({ detail: 'slow down', error_code: 'RATE_LIMITED' }, { status: 429, headers: { 'Retry-After': '30' } }),
      ),
    );
    const { user } = renderApp('/signup');
    await user.type(await screen.findByLabelText('Email'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), 'a good password');
    await user.click(screen.getByRole('button', { name: 'Create account' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Too many attempts. Try again in 30 seconds.');
  });

  it('shows 503 SERVICE_UNAVAILABLE (the password queue is full) as a busy server', async () => {
    server.use(
      http.post('/api/auth/signup', () =>
        HttpResponse.json({ detail: 'busy', error_code: 'SERVICE_UNAVAILABLE' }, { status: 503, headers: { 'Retry-After': '2' } }),
      ),
    );
    const { user } = renderApp('/signup');
    await user.type(await screen.findByLabelText('Email'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), 'a good password');
    await user.click(screen.getByRole('button', { name: 'Create account' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(/^The server is busy\. Try again in a few seconds\.$/);
  });

  it('creates the account and logs in to it: straight to the dashboard', async () => {
    const { user, router } = renderApp('/signup');
    await user.type(await screen.findByLabelText('Email'), 'new@example.com');
    await user.type(screen.getByLabelText('Password'), 'a good password');
    await user.click(screen.getByRole('button', { name: 'Create account' }));
    expect(await screen.findByRole('heading', { name: 'Your files' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/dashboard');
    expect(screen.getByText('new@example.com')).toBeInTheDocument();
    expect(db.users.map((u) => u.email)).toContain('new@example.com');
    expect(getToken()).toMatch(/^ey/);
  });

  it('logs in after signup with a server that does not (before sessions)', async () => {
    server.use(
      http.post('/api/auth/signup', async ({ request }) => {
        const { email, password } = (await request.json()) as { email: string; password: string };
        const u = createUser(email, password);
        return HttpResponse.json({ message: 'user created', user_id: u.id }, { status: 201 });
      }),
    );
    const { user, router } = renderApp('/signup?redirectTo=%2Ftrash');
    await user.type(await screen.findByLabelText('Email'), 'old@example.com');
    await user.type(screen.getByLabelText('Password'), 'a good password');
    await user.click(screen.getByRole('button', { name: 'Create account' }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/trash'));
  });

  it('puts a server VALIDATION_ERROR about the password under the password field', async () => {
    server.use(
      http.post('/api/auth/signup', () =>
        HttpResponse.json({ detail: 'password is too common', error_code: 'VALIDATION_ERROR', field: 'password' }, { status: 400 }),
      ),
    );
    const { user } = renderApp('/signup');
    await user.type(await screen.findByLabelText('Email'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), 'password123');
    await user.click(screen.getByRole('button', { name: 'Create account' }));
    expect(await screen.findByText('password is too common')).toBeInTheDocument();
    expect(screen.getByLabelText('Password')).toHaveAccessibleDescription(/password is too common/);
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });
});
