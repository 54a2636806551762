import { describe, expect, it } from 'vitest';
import { waitFor, within } from '@testing-library/react';

import { addFile, createUser, db } from '@/testing/mock-db';
import { logIn, renderApp, screen } from '@/testing/test-utils';

// The app must be usable without a mouse: real buttons and links, labelled
// fields, a sensible tab order, Enter to submit, a dialog that holds focus.
describe('keyboard use', () => {
  it('logs in with Tab, typing and Enter only', async () => {
    createUser('kb@example.com', 'keyboard only');
    const { user } = renderApp('/login');
    await screen.findByRole('button', { name: 'Log in' });
    await user.tab();
    expect(screen.getByLabelText('Email')).toHaveFocus();
    await user.keyboard('kb@example.com');
    await user.tab();
    expect(screen.getByLabelText('Password')).toHaveFocus();
    await user.keyboard('keyboard only{Enter}');
    expect(await screen.findByRole('heading', { name: 'Your files' })).toBeInTheDocument();
  });

  it('deletes a file from the keyboard; the dialog keeps focus inside and Escape closes it', async () => {
    const owner = logIn(createUser());
    addFile(owner.id, 'kb.txt');
    const { user } = renderApp('/dashboard');
    const del = await screen.findByRole('button', { name: 'Delete kb.txt' });
    del.focus();
    await user.keyboard('{Enter}');
    const dialog = screen.getByRole('dialog', { name: 'Delete file?' });
    const cancel = within(dialog).getByRole('button', { name: 'Cancel' });
    const confirm = within(dialog).getByRole('button', { name: 'Delete' });
    expect(cancel).toHaveFocus();
    await user.tab();
    expect(confirm).toHaveFocus();
    await user.tab();
    expect(cancel).toHaveFocus(); // wrapped around, still inside the dialog
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(del).toHaveFocus(); // focus returns to the button that opened it

    await user.keyboard('{Enter}');
    await user.tab();
    await user.keyboard('{Enter}');
    await waitFor(() => expect(db.files).toHaveLength(0));
  });

  it('the first Tab reaches "Skip to your files", which moves focus to the file list', async () => {
    logIn(createUser());
    const { user } = renderApp('/dashboard');
    await screen.findByRole('heading', { name: 'Your files' });
    await user.tab();
    const skip = screen.getByRole('link', { name: 'Skip to your files' });
    expect(skip).toHaveFocus();
    await user.keyboard('{Enter}');
    expect(screen.getByRole('heading', { name: 'Your files' })).toHaveFocus();
    await user.tab();
    expect(screen.getByRole('searchbox', { name: 'Search files' })).toHaveFocus();
  });

  it('reaches the upload button, search and logout with Tab', async () => {
    logIn(createUser());
    const { user } = renderApp('/dashboard');
    await screen.findByText(/^Up to .* per file$/);
    const reached = new Set<string>();
    for (let i = 0; i < 12; i++) {
      await user.tab();
      const el = document.activeElement as HTMLElement;
      reached.add(el.getAttribute('aria-label') ?? el.textContent ?? '');
      if (el.id === 'file-search') reached.add('search');
    }
    expect(reached).toContain('Choose files');
    expect(reached).toContain('search');
    expect(reached).toContain('Log out');
  });
});
