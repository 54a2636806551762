import { describe, expect, it } from 'vitest';
import { within } from '@testing-library/react';

import { getToken } from '@/lib/auth-token';
import { addFile, createUser, db } from '@/testing/mock-db';
import { logIn, renderApp, screen } from '@/testing/test-utils';

describe('Delete account', () => {
  it('asks for the password; a wrong one keeps the session, the right one deletes and logs out', async () => {
    const me = logIn(createUser('leaving@example.com', 'right password'));
    addFile(me.id, 'mine.txt');
    const { user, router } = renderApp('/account');

    await user.click(await screen.findByRole('button', { name: 'Delete account' }));
    const dialog = screen.getByRole('dialog', { name: 'Delete account?' });
    const password = within(dialog).getByLabelText('Password');
    expect(password).toHaveFocus();
    expect(within(dialog).getByRole('button', { name: 'Delete account' })).toBeDisabled();

    await user.type(password, 'wrong password');
    await user.click(within(dialog).getByRole('button', { name: 'Delete account' }));
    expect(await within(dialog).findByText('The password is not correct.')).toBeInTheDocument();
    expect(getToken()).not.toBeNull(); // a wrong password does not end the session
    expect(db.users).toHaveLength(1);

    await user.clear(password);
    await user.type(password, 'right password');
    await user.click(within(dialog).getByRole('button', { name: 'Delete account' }));
    expect(await screen.findByText('Your account and all its files were deleted.')).toBeInTheDocument();
    await screen.findByRole('heading', { name: /log in/i });
    expect(router.state.location.pathname).toBe('/login');
    expect(getToken()).toBeNull();
    expect(db.users).toHaveLength(0);
    expect(db.files).toHaveLength(0);
  });

  it('Cancel and Escape close the dialog without deleting', async () => {
    logIn(createUser());
    const { user } = renderApp('/account');
    await user.click(await screen.findByRole('button', { name: 'Delete account' }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Delete account' }));
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(db.users).toHaveLength(1);
  });
});
