import { describe, expect, it, vi } from 'vitest';
import { http, HttpResponse } from 'msw';
import { waitFor, within } from '@testing-library/react';

import { FileList } from '@/features/files/components/file-list';
import { ShareDialog } from '@/features/shares/components/share-dialog';
import { addFile, createUser } from '@/testing/mock-db';
import { server } from '@/testing/server';
import { logIn, renderApp, renderWithProviders, screen } from '@/testing/test-utils';

import { formatDate } from '@/lib/format';

import '@/app/routes/public-share';

type MockShare = {
  id: number;
  expires_at: string;
  max_downloads: number | null;
  downloads: number;
  has_password: boolean;
  created_at: string;
  revoked?: boolean;
};

describe('Share dialog', () => {
  it('creates a link with a password and a limit, copies it, lists and revokes it', async () => {
    const owner = logIn(createUser());
    const file = addFile(owner.id, 'report.pdf');
    const shares: MockShare[] = [];
    const bodies: unknown[] = [];
    server.use(
      http.post('/api/files/:id/shares', async ({ request, params }) => {
        expect(Number(params.id)).toBe(file.id);
        const body = (await request.json()) as { password?: string; max_downloads?: number; expires_in_hours: number };
        bodies.push(body);
        const s: MockShare = {
          id: shares.length + 1,
          expires_at: '2026-12-09T00:00:00Z',
          max_downloads: body.max_downloads ?? null,
          downloads: 0,
          has_password: !!body.password,
          created_at: '2026-12-02T00:00:00Z',
        };
        shares.push(s);
        return HttpResponse.json({ ...s, url: 'http://localhost:8000/s/tok-1' }, { status: 201 });
      }),
      http.get('/api/files/:id/shares', () => HttpResponse.json({ shares: shares.filter((s) => !s.revoked) })),
      http.delete('/api/shares/:id', ({ params }) => {
        shares.find((s) => s.id === Number(params.id))!.revoked = true;
        return new HttpResponse(null, { status: 204 });
      }),
    );
    const { user } = renderWithProviders(<FileList refetchIntervalMs={60_000} />);
    await user.click(await screen.findByRole('button', { name: 'Share report.pdf' }));
    const dialog = screen.getByRole('dialog', { name: 'Share report.pdf' });
    expect(within(dialog).getByLabelText('Link expires after')).toHaveFocus();
    await within(dialog).findByText('No live links.');
    // The dialog says what a password hides.
    expect(within(dialog).getByLabelText('Password (optional)')).toHaveAccessibleDescription(/name, size and type only to whoever gives the password/);

    await user.selectOptions(within(dialog).getByLabelText('Link expires after'), '24');
    await user.type(within(dialog).getByLabelText('Password (optional)'), 'short');
    await user.click(within(dialog).getByRole('button', { name: 'Create link' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('at least 8 characters');
    expect(bodies).toHaveLength(0);

    await user.type(within(dialog).getByLabelText('Password (optional)'), ' and more');
    await user.type(within(dialog).getByLabelText('Download limit (optional)'), '3');
    await user.click(within(dialog).getByRole('button', { name: 'Create link' }));
    expect(await within(dialog).findByLabelText('New link (shown once)')).toHaveValue('http://localhost:8000/s/tok-1');
    expect(bodies).toEqual([{ expires_in_hours: 24, password: 'short and more', max_downloads: 3 }]);

    const writeText = vi.spyOn(navigator.clipboard, 'writeText'); // user-event's clipboard stub
    await user.click(within(dialog).getByRole('button', { name: 'Copy link' }));
    expect(await within(dialog).findByRole('button', { name: 'Copied' })).toBeInTheDocument();
    expect(writeText).toHaveBeenCalledWith('http://localhost:8000/s/tok-1');

    const row = await within(dialog).findByTestId('share-row');
    expect(row).toHaveTextContent('0 of 3 downloads · password');
    await user.click(within(row).getByRole('button', { name: /Revoke/ }));
    await within(dialog).findByText('No live links.');
    expect(within(dialog).queryByLabelText('New link (shown once)')).not.toBeInTheDocument();

    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Share report.pdf' })).toHaveFocus();
  });
});

describe('Share dialog while open', () => {
  it('shows when each link was made, and its downloads as they happen', async () => {
    const owner = logIn(createUser());
    const file = addFile(owner.id, 'live.pdf');
    const share: MockShare = {
      id: 7,
      expires_at: '2026-12-09T00:00:00Z',
      max_downloads: 5,
      downloads: 0,
      has_password: false,
      created_at: '2026-12-02T08:30:00Z',
    };
    server.use(http.get('/api/files/:id/shares', () => HttpResponse.json({ shares: [share] })));
    renderWithProviders(<ShareDialog file={file} onClose={() => undefined} refreshMs={50} />);
    const row = await screen.findByTestId('share-row');
    expect(row).toHaveTextContent(`Created ${formatDate('2026-12-02T08:30:00Z')}`);
    expect(row).toHaveTextContent('0 of 5 downloads');
    share.downloads = 2; // somebody used the link meanwhile
    await waitFor(() => expect(screen.getByTestId('share-row')).toHaveTextContent('2 of 5 downloads'));
  });
});

describe('Public share page', () => {
  const facts = { filename: 'holiday.jpg', file_size: 2048, content_type: 'image/jpeg' };
  function publicHandlers(opts: { needsPassword: boolean; gone?: boolean }) {
    const posts: { url: string; body: unknown; auth: string | null }[] = [];
    server.use(
      http.get('/api/public/shares/:token', ({ params }) => {
        if (params.token !== 'good-token') return HttpResponse.json({ detail: 'share not found', error_code: 'SHARE_NOT_FOUND' }, { status: 404 });
        if (opts.gone) return HttpResponse.json({ detail: 'gone', error_code: 'SHARE_GONE' }, { status: 410 });
        // Of a share with a password, nothing of the file before the password.
        if (opts.needsPassword) return HttpResponse.json({ expires_at: '2026-12-09T00:00:00Z', needs_password: true });
        return HttpResponse.json({ ...facts, expires_at: '2026-12-09T00:00:00Z', needs_password: false });
      }),
      http.post('/api/public/shares/:token/download', async ({ request }) => {
        const body = (await request.json()) as { password?: string };
        posts.push({ url: request.url, body, auth: request.headers.get('Authorization') });
        if (opts.needsPassword && !body.password)
          return HttpResponse.json({ detail: 'x', error_code: 'SHARE_PASSWORD_REQUIRED' }, { status: 401 });
        if (opts.needsPassword && body.password !== 'right password')
          return HttpResponse.json({ detail: 'x', error_code: 'INVALID_CREDENTIALS' }, { status: 401 });
        return HttpResponse.json({ url: 'http://storage.test/hot/holiday.jpg?X-Amz-Signature=s', expires_in: 300, ...facts });
      }),
    );
    return posts;
  }

  it('works logged out: no name before the password, wrong password refused, the right one navigates to the presigned URL and names the file', async () => {
    const posts = publicHandlers({ needsPassword: true });
    const clicks: string[] = [];
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicks.push(this.href);
    });
    const { user, router } = renderApp('/s/good-token');
    expect(await screen.findByText('A password-protected file')).toBeInTheDocument();
    expect(screen.getByText(/name and size show once the password is given/)).toBeInTheDocument();
    expect(screen.queryByTestId('shared-filename')).not.toBeInTheDocument();
    expect(screen.queryByText(/holiday|2\.0 KiB/)).not.toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/s/good-token'); // not sent to /login

    await user.click(screen.getByRole('button', { name: 'Download' }));
    expect(await screen.findByText('Enter the password of this link.')).toBeInTheDocument();
    expect(posts).toHaveLength(0);

    await user.type(screen.getByLabelText('Password'), 'wrong password{Enter}');
    expect(await screen.findByText('Wrong password.')).toBeInTheDocument();
    expect(clicks).toHaveLength(0);

    await user.clear(screen.getByLabelText('Password'));
    await user.type(screen.getByLabelText('Password'), 'right password{Enter}');
    await waitFor(() => expect(clicks).toEqual(['http://storage.test/hot/holiday.jpg?X-Amz-Signature=s']));
    expect(await screen.findByTestId('shared-filename')).toHaveTextContent('holiday.jpg');
    expect(screen.getByText(/2\.0 KiB/)).toBeInTheDocument();
    expect(posts.map((p) => p.body)).toEqual([{ password: 'wrong password' }, { password: 'right password' }]);
    expect(posts.every((p) => !p.url.includes('password') && p.auth === null)).toBe(true);
    click.mockRestore();
  });

  it('does not send the session token and downloads at once without a password', async () => {
    logIn(createUser());
    const posts = publicHandlers({ needsPassword: false });
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {});
    const { user } = renderApp('/s/good-token');
    expect(await screen.findByTestId('shared-filename')).toHaveTextContent('holiday.jpg'); // the link hands it out anyway
    expect(screen.queryByLabelText('Password')).not.toBeInTheDocument();
    await user.click(await screen.findByRole('button', { name: 'Download' }));
    await waitFor(() => expect(click).toHaveBeenCalled());
    expect(posts).toEqual([expect.objectContaining({ body: {}, auth: null })]);
    click.mockRestore();
  });

  it('says when a link is gone or unknown', async () => {
    publicHandlers({ needsPassword: false, gone: true });
    renderApp('/s/good-token');
    expect(await screen.findByText(/no longer available/)).toBeInTheDocument();
  });

  it('says when a link does not exist', async () => {
    publicHandlers({ needsPassword: false });
    renderApp('/s/bad-token');
    expect(await screen.findByText(/does not exist/)).toBeInTheDocument();
  });
});
