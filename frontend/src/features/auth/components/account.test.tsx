import { waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import { getToken } from '@/lib/auth-token';
import { createUser, db, startSession } from '@/testing/mock-db';
import { server } from '@/testing/server';
import { logIn, renderApp, screen } from '@/testing/test-utils';

// The account page: sessions, password, two-factor login.

const PHONE_UA = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const FIREFOX_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:131.0) Gecko/20100101 Firefox/131.0';

function withOtherDevices() {
  const me = createUser('ada@example.com', 'correct horse battery');
  startSession(me, PHONE_UA);
  startSession(me, FIREFOX_UA);
  logIn(me); // this browser, the newest session (its cookie)
  return me;
}

describe('Account page', () => {
  it('is linked from the navbar and lists the sessions with this device marked', async () => {
    withOtherDevices();
    const { user, router } = renderApp('/dashboard');
    await user.click(await screen.findByRole('link', { name: 'Account' }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/account'));
    const list = await screen.findByRole('list', { name: 'Sessions' });
    const items = within(list).getAllByRole('listitem');
    expect(items).toHaveLength(3);
    expect(items[0]).toHaveAccessibleName(/this device$/);
    expect(within(items[0]).getByText('This device')).toBeInTheDocument();
    expect(within(list).getByRole('listitem', { name: 'Safari on iOS' })).toBeInTheDocument();
    expect(within(list).getByRole('listitem', { name: 'Firefox on Windows' })).toBeInTheDocument();
    // No button ends this session from the list: that is Log out.
    expect(within(items[0]).queryByRole('button')).not.toBeInTheDocument();
  });

  it('logs out the other devices (POST /api/auth/logout {scope: "others"})', async () => {
    withOtherDevices();
    const { user } = renderApp('/account');
    const list = await screen.findByRole('list', { name: 'Sessions' });
    await within(list).findByRole('listitem', { name: 'Safari on iOS' });
    await user.click(screen.getByRole('button', { name: 'Log out other devices' }));
    expect(await screen.findByText('Logged out 2 other devices')).toBeInTheDocument();
    await waitFor(() => expect(within(list).getAllByRole('listitem')).toHaveLength(1));
    expect(db.sessions.map((s) => s.ended)).toEqual(['revoked', 'revoked', null]);
    expect(screen.getByRole('button', { name: 'Log out other devices' })).toBeDisabled();
    expect(getToken()).not.toBeNull();
  });

  it('ends one other session (DELETE /api/auth/sessions/{id})', async () => {
    withOtherDevices();
    const { user } = renderApp('/account');
    const list = await screen.findByRole('list', { name: 'Sessions' });
    const phone = await within(list).findByRole('listitem', { name: 'Safari on iOS' });
    await user.click(within(phone).getByRole('button', { name: /^End session: Safari on iOS/ }));
    await waitFor(() => expect(within(list).queryByRole('listitem', { name: 'Safari on iOS' })).not.toBeInTheDocument());
    expect(db.sessions[0].ended).toBe('revoked');
    expect(db.sessions[1].ended).toBeNull();
  });

  it('changes the password: a wrong current one is said at its field, then the other sessions end', async () => {
    const me = withOtherDevices();
    const { user } = renderApp('/account');
    const form = await screen.findByRole('form', { name: 'Change password' });
    await user.type(within(form).getByLabelText('Current password'), 'not it');
    await user.type(within(form).getByLabelText('New password'), 'a much better passphrase');
    await user.click(within(form).getByRole('button', { name: 'Change password' }));
    expect(await within(form).findByText('The current password is not correct.')).toBeInTheDocument();
    expect(getToken()).not.toBeNull(); // a wrong password does not end the session

    await user.clear(within(form).getByLabelText('Current password'));
    await user.type(within(form).getByLabelText('Current password'), 'correct horse battery');
    await user.click(within(form).getByRole('button', { name: 'Change password' }));
    expect(await screen.findByText('Password changed. Your other devices were logged out.')).toBeInTheDocument();
    expect(me.password).toBe('a much better passphrase');
    expect(db.sessions.map((s) => s.ended)).toEqual(['revoked', 'revoked', null]);
    expect(within(form).getByLabelText('Current password')).toHaveValue('');
  });

  it('refuses a common new password before sending it', async () => {
    const me = withOtherDevices();
    let loaded = false;
    server.events.on('response:mocked', ({ request }) => {
      if (new URL(request.url).pathname === '/api/auth/password-blocklist') loaded = true;
    });
    const { user } = renderApp('/account');
    const form = await screen.findByRole('form', { name: 'Change password' });
    // The blocklist arrives with the page.
    await waitFor(() => expect(loaded).toBe(true));
    await user.type(within(form).getByLabelText('Current password'), 'correct horse battery');
    await user.type(within(form).getByLabelText('New password'), 'qwertyuiop');
    await user.click(within(form).getByRole('button', { name: 'Change password' }));
    expect(await within(form).findByText(/too common/)).toBeInTheDocument();
    expect(me.password).toBe('correct horse battery');
  });

  it('sets up two-factor login: QR code, a wrong code refused, then the recovery codes once', async () => {
    const me = withOtherDevices();
    const { user } = renderApp('/account');
    await user.click(await screen.findByRole('button', { name: 'Set up two-factor login' }));
    const form = await screen.findByRole('form', { name: 'Set up two-factor login' });
    const qr = within(form).getByRole('img', { name: 'QR code for your authenticator app' });
    expect(qr.tagName.toLowerCase()).toBe('svg');
    expect(within(form).getByTestId('totp-secret')).toHaveTextContent('JBSW Y3DP EHPK 3PXP');

    await user.type(within(form).getByLabelText('Code from the app'), '000000');
    await user.click(within(form).getByRole('button', { name: 'Turn on' }));
    expect(await within(form).findByText(/That code is not correct/)).toBeInTheDocument();

    await user.clear(within(form).getByLabelText('Code from the app'));
    await user.type(within(form).getByLabelText('Code from the app'), '123456');
    await user.click(within(form).getByRole('button', { name: 'Turn on' }));
    const codes = await screen.findByRole('list', { name: 'Recovery codes' });
    expect(within(codes).getAllByRole('listitem')).toHaveLength(10);
    expect(me.totp?.enabled).toBe(true);
    await user.click(screen.getByRole('button', { name: 'I have saved them' }));
    expect(screen.queryByRole('list', { name: 'Recovery codes' })).not.toBeInTheDocument();
    expect(await screen.findByRole('button', { name: 'Turn off two-factor login' })).toBeInTheDocument();
  });

  it('turns two-factor login off with the password and a code', async () => {
    const me = withOtherDevices();
    me.totp = { enabled: true, code: '123456', recovery: ['rc1'] };
    const { user } = renderApp('/account');
    await user.click(await screen.findByRole('button', { name: 'Turn off two-factor login' }));
    const form = screen.getByRole('form', { name: 'Turn off two-factor login' });
    expect(within(form).getByLabelText('Password')).toHaveFocus();
    await user.keyboard('correct horse battery');
    await user.type(within(form).getByLabelText('Code from the app, or a recovery code'), '999999');
    await user.click(within(form).getByRole('button', { name: 'Turn off' }));
    expect(await within(form).findByText('That code is not correct.')).toBeInTheDocument();
    await user.clear(within(form).getByLabelText('Code from the app, or a recovery code'));
    await user.type(within(form).getByLabelText('Code from the app, or a recovery code'), '123456');
    await user.click(within(form).getByRole('button', { name: 'Turn off' }));
    expect(await screen.findByText('Two-factor login is off.')).toBeInTheDocument();
    expect(me.totp).toBeUndefined();
    expect(await screen.findByRole('button', { name: 'Set up two-factor login' })).toBeInTheDocument();
  });
});

describe('Forgot and reset password', () => {
  it('asks for a link and says the same whatever the address', async () => {
    const { user } = renderApp('/forgot-password');
    await user.type(await screen.findByLabelText('Email'), 'nobody@example.com');
    await user.click(screen.getByRole('button', { name: 'Send the link' }));
    expect(await screen.findByText(/If an account uses/)).toBeInTheDocument();
    expect(db.resetRequests).toEqual(['nobody@example.com']);
  });

  it('says when the server cannot send mail', async () => {
    db.config.password_reset = false;
    renderApp('/forgot-password');
    expect(await screen.findByText(/cannot send mail/)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Send the link' })).toBeDisabled();
  });

  it('sets a new password from the link, drops the token from the address, and every session ends', async () => {
    const me = createUser('ada@example.com', 'old password here');
    startSession(me);
    db.resetToken = { token: 'tok-123', email: me.email };
    const { user, router } = renderApp('/reset-password#tok-123');
    const pw = await screen.findByLabelText('New password');
    await waitFor(() => expect(router.state.location.hash).toBe(''));
    await user.type(pw, 'brand new passphrase');
    await user.type(screen.getByLabelText('Repeat the new password'), 'brand new passphrase');
    await user.click(screen.getByRole('button', { name: 'Set the new password' }));
    expect(await screen.findByText('Your password was changed. Log in with the new one.')).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/login');
    expect(me.password).toBe('brand new passphrase');
    expect(db.sessions[0].ended).toBe('revoked');
  });

  it('says when the link is used or expired, with a way to ask for a new one', async () => {
    const { user } = renderApp('/reset-password#stale');
    await user.type(await screen.findByLabelText('New password'), 'brand new passphrase');
    await user.type(screen.getByLabelText('Repeat the new password'), 'brand new passphrase');
    await user.click(screen.getByRole('button', { name: 'Set the new password' }));
    expect(await screen.findByText(/This link is not valid any more/)).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Ask for a new link' })).toHaveAttribute('href', '/forgot-password');
  });

  it('checks the two passwords match before sending', async () => {
    const { user } = renderApp('/reset-password#tok');
    await user.type(await screen.findByLabelText('New password'), 'brand new passphrase');
    await user.type(screen.getByLabelText('Repeat the new password'), 'brand new passphrasf');
    await user.click(screen.getByRole('button', { name: 'Set the new password' }));
    expect(await screen.findByText('The two passwords are not the same')).toBeInTheDocument();
  });
});
