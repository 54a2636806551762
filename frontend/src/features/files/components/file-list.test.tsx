import { describe, expect, it, vi } from 'vitest';
import { http, HttpResponse } from 'msw';
import { waitFor, within } from '@testing-library/react';

import { FileList } from '@/features/files/components/file-list';
import { formatDate } from '@/lib/format';
import { addFile, createUser, db, moveToS3 } from '@/testing/mock-db';
import { server } from '@/testing/server';
import { logIn, renderWithProviders, screen } from '@/testing/test-utils';
import { setViewport } from '@/testing/viewport';

function setup(props: Parameters<typeof FileList>[0] = {}) {
  const owner = logIn(createUser());
  return {
    owner,
    render: (more: Parameters<typeof FileList>[0] = {}) =>
      renderWithProviders(<FileList refetchIntervalMs={60_000} {...props} {...more} />),
  };
}

function row(name: string) {
  return screen.getByRole('row', { name: new RegExp(name.replace('.', '\\.')) });
}

describe('FileList', () => {
  it('shows each file with its tier badge, synced date, readable size and local date', async () => {
    const { owner, render } = setup();
    addFile(owner.id, 'hot.txt', { size: 1536, uploadedAt: '2026-02-03T04:05:06Z' });
    addFile(owner.id, 'cold.pdf', { location: 's3', size: 5 * 1024 * 1024, syncedAt: '2026-02-04T00:00:09Z' });
    render();

    const hot = await screen.findByRole('row', { name: /hot\.txt/ });
    expect(within(hot).getByText('MinIO')).toBeInTheDocument();
    expect(within(hot).getByText('1.5 KiB')).toBeInTheDocument();
    expect(within(hot).getByText(formatDate('2026-02-03T04:05:06Z'))).toBeInTheDocument();
    expect(within(hot).queryByText(/synced/)).not.toBeInTheDocument();

    const cold = row('cold.pdf');
    expect(within(cold).getByText('S3')).toBeInTheDocument();
    expect(within(cold).getByText(`synced ${formatDate('2026-02-04T00:00:09Z')}`)).toBeInTheDocument();
    expect(within(cold).getByText('5.0 MiB')).toBeInTheDocument();
  });

  it('says when a file\'s SHA-256 is not known yet: it is computed on the move to cold storage', async () => {
    const { owner, render } = setup();
    addFile(owner.id, 'parts.bin', { checksum: null });
    addFile(owner.id, 'known.txt');
    render();

    const pending = await screen.findByRole('row', { name: /parts\.bin/ });
    expect(within(pending).getByTitle('SHA-256 computed on the move to cold storage')).toBeInTheDocument();
    // A detail, not text of the list.
    expect(within(pending).queryByText(/SHA-256/)).not.toBeInTheDocument();
    expect(within(row('known.txt')).queryByTitle(/SHA-256/)).not.toBeInTheDocument();
  });

  it('lists newest first and loads more pages on next_cursor', async () => {
    const { owner, render } = setup();
    for (let i = 1; i <= 25; i++) addFile(owner.id, `file-${String(i).padStart(2, '0')}.txt`);
    const { user } = render();

    await screen.findByRole('row', { name: /file-25\.txt/ });
    const bodyRows = () => screen.getAllByRole('row').slice(1); // minus the header
    expect(bodyRows()).toHaveLength(20);
    expect(within(bodyRows()[0]).getByText('file-25.txt')).toBeInTheDocument();
    expect(screen.queryByRole('row', { name: /file-05\.txt/ })).not.toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Load more' }));
    await screen.findByRole('row', { name: /file-01\.txt/ });
    expect(bodyRows()).toHaveLength(25);
    expect(screen.queryByRole('button', { name: 'Load more' })).not.toBeInTheDocument();
  });

  it('refreshes by itself: a file moved to S3 shows its new badge without a reload', async () => {
    const { owner } = setup();
    const f = addFile(owner.id, 'moving.txt');
    renderWithProviders(<FileList refetchIntervalMs={100} />);
    const r = await screen.findByRole('row', { name: /moving\.txt/ });
    expect(within(r).getByText('MinIO')).toBeInTheDocument();

    moveToS3(f.id); // the nightly sync job ran on the server

    await waitFor(() => expect(within(row('moving.txt')).getByText('S3')).toBeInTheDocument());
    expect(within(row('moving.txt')).queryByText('MinIO')).not.toBeInTheDocument();
  });

  it('asks for confirmation before deleting, and Cancel keeps the file', async () => {
    const { owner, render } = setup();
    addFile(owner.id, 'keep.txt');
    addFile(owner.id, 'drop.txt');
    const { user } = render();

    await user.click(await screen.findByRole('button', { name: 'Delete keep.txt' }));
    let dialog = screen.getByRole('dialog', { name: 'Delete file?' });
    expect(dialog).toHaveTextContent('keep.txt will be removed from every tier');
    expect(within(dialog).getByRole('button', { name: 'Cancel' })).toHaveFocus();
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(db.files).toHaveLength(2);

    await user.click(screen.getByRole('button', { name: 'Delete drop.txt' }));
    dialog = screen.getByRole('dialog', { name: 'Delete file?' });
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Delete drop.txt' }));
    dialog = screen.getByRole('dialog', { name: 'Delete file?' });
    await user.click(within(dialog).getByRole('button', { name: 'Delete' }));

    expect(await screen.findByText('Deleted drop.txt')).toBeInTheDocument();
    await waitFor(() => expect(screen.queryByRole('row', { name: /drop\.txt/ })).not.toBeInTheDocument());
    expect(row('keep.txt')).toBeInTheDocument();
    expect(db.files.map((f) => f.original_filename)).toEqual(['keep.txt']);
  });

  it('with a trash, moves the file there and Undo in the toast restores it', async () => {
    db.config.trash_retention_days = 30;
    const { owner, render } = setup();
    addFile(owner.id, 'oops.txt');
    const { user } = render();

    await user.click(await screen.findByRole('button', { name: 'Delete oops.txt' }));
    const dialog = await screen.findByRole('dialog', { name: 'Move to trash?' });
    expect(dialog).toHaveTextContent('oops.txt goes to the trash: you can restore it there for 30 days');
    await user.click(within(dialog).getByRole('button', { name: 'Move to trash' }));

    expect(await screen.findByText('Moved oops.txt to the trash')).toBeInTheDocument();
    await waitFor(() => expect(screen.queryByRole('row', { name: /oops\.txt/ })).not.toBeInTheDocument());
    expect(db.trash.map((f) => f.original_filename)).toEqual(['oops.txt']);

    await user.click(screen.getByRole('button', { name: 'Undo' }));
    expect(await screen.findByText('Restored oops.txt')).toBeInTheDocument();
    expect(await screen.findByRole('row', { name: /oops\.txt/ })).toBeInTheDocument();
    expect(db.trash).toHaveLength(0);
  });

  it('Undo after the trash was emptied says the file is gone', async () => {
    db.config.trash_retention_days = 30;
    const { owner, render } = setup();
    addFile(owner.id, 'late.txt');
    const { user } = render();

    await user.click(await screen.findByRole('button', { name: 'Delete late.txt' }));
    await user.click(within(await screen.findByRole('dialog', { name: 'Move to trash?' })).getByRole('button', { name: 'Move to trash' }));
    expect(await screen.findByText('Moved late.txt to the trash')).toBeInTheDocument();
    db.trash = []; // emptied meanwhile (another tab, the sweep)
    await user.click(screen.getByRole('button', { name: 'Undo' }));
    expect(await screen.findByText('late.txt is gone: it was removed from the trash for good.')).toBeInTheDocument();
  });

  it('after a delete, focus moves to the next row (the previous one at the end, then the search)', async () => {
    const { owner, render } = setup();
    addFile(owner.id, 'c.txt', { uploadedAt: '2026-01-01T00:00:00Z' });
    addFile(owner.id, 'b.txt', { uploadedAt: '2026-01-02T00:00:00Z' });
    addFile(owner.id, 'a.txt', { uploadedAt: '2026-01-03T00:00:00Z' });
    const { user } = render();
    const deleteOne = async (name: string) => {
      await user.click(await screen.findByRole('button', { name: `Delete ${name}` }));
      await user.click(within(screen.getByRole('dialog', { name: 'Delete file?' })).getByRole('button', { name: 'Delete' }));
      await waitFor(() => expect(screen.queryByRole('row', { name: new RegExp(name.replace('.', '\\.')) })).not.toBeInTheDocument());
    };

    await deleteOne('b.txt'); // the middle row: the next one (c.txt) gets focus
    await waitFor(() => expect(screen.getByRole('button', { name: 'Download c.txt' })).toHaveFocus());
    await deleteOne('c.txt'); // the last row: the one before it
    await waitFor(() => expect(screen.getByRole('button', { name: 'Download a.txt' })).toHaveFocus());
    await deleteOne('a.txt'); // none left: the search
    await waitFor(() => expect(screen.getByRole('searchbox', { name: 'Search files' })).toHaveFocus());
  });

  it('searches by name with a debounced q parameter', async () => {
    const { owner, render } = setup();
    addFile(owner.id, 'report-2025.pdf');
    addFile(owner.id, 'holiday.jpg');
    const queries: (string | null)[] = [];
    server.events.on('request:start', ({ request }) => {
      const url = new URL(request.url);
      if (url.pathname === '/api/files') queries.push(url.searchParams.get('q'));
    });
    const { user } = render({ searchDebounceMs: 800 });
    await screen.findByRole('row', { name: /holiday\.jpg/ });

    await user.type(screen.getByRole('searchbox', { name: 'Search files' }), 'report');
    await waitFor(() => expect(screen.queryByRole('row', { name: /holiday\.jpg/ })).not.toBeInTheDocument());
    expect(row('report-2025.pdf')).toBeInTheDocument();
    // The first load, then the settled search: not one request per key.
    expect(queries[0]).toBeNull();
    expect(queries.at(-1)).toBe('report');
    expect(queries.length).toBeLessThanOrEqual(3);

    await user.clear(screen.getByRole('searchbox', { name: 'Search files' }));
    await user.type(screen.getByRole('searchbox', { name: 'Search files' }), 'nothing-like-this');
    expect(await screen.findByText('No files match your search.')).toBeInTheDocument();
    server.events.removeAllListeners();
  });

  it('shows an empty state when there are no files', async () => {
    setup().render();
    expect(await screen.findByText('No files yet. Upload your first file above.')).toBeInTheDocument();
  });

  it('shows a loading skeleton, then an error fallback whose retry recovers', async () => {
    const { owner, render } = setup();
    addFile(owner.id, 'back.txt');
    let calls = 0;
    server.use(
      http.get('/api/files', () => {
        calls += 1;
        if (calls === 1) return HttpResponse.json({ detail: 'database unavailable', error_code: 'INTERNAL' }, { status: 500 });
        return undefined;
      }),
    );
    const { user } = render();
    expect(screen.getByRole('status', { name: 'Loading files' })).toBeInTheDocument();
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Could not load your files');
    expect(alert).toHaveTextContent('database unavailable');
    await user.click(within(alert).getByRole('button', { name: 'Try again' }));
    expect(await screen.findByRole('row', { name: /back\.txt/ })).toBeInTheDocument();
  });

  it('shows cards instead of a table on a phone-sized screen', async () => {
    setViewport('phone');
    const { owner, render } = setup();
    addFile(owner.id, 'phone.txt', { location: 's3' });
    render();
    const cards = await screen.findByRole('list', { name: 'Files' });
    expect(screen.queryByRole('table')).not.toBeInTheDocument();
    const card = within(cards).getByRole('listitem');
    expect(card).toHaveTextContent('phone.txt');
    expect(within(card).getByText('S3')).toBeInTheDocument();
    expect(within(card).getByRole('button', { name: 'Download phone.txt' })).toBeInTheDocument();
  });

  describe('downloads', () => {
    // Every download request the app sends, and every anchor it clicks.
    function watch() {
      const requests: string[] = [];
      server.events.on('request:start', ({ request }) => {
        if (request.url.includes('/download') || request.url.startsWith('http://storage.test')) requests.push(request.url);
      });
      const clicks: { href: string; download: string }[] = [];
      vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
        clicks.push({ href: this.href, download: this.download });
      });
      const blobs = vi.spyOn(URL, 'createObjectURL');
      return { requests, clicks, blobs };
    }
    const presigned = (id: number) => `http://storage.test/presigned/${id}?response-content-disposition=attachment`;
    const asJson = (id: number) => `${window.location.origin}/api/files/${id}/download?redirect=1&format=json`;

    it('stream mode: a small file comes through the API with the token and is saved under its original name', async () => {
      const { owner, render } = setup();
      const f = addFile(owner.id, 'notes.txt', { content: new TextEncoder().encode('the exact bytes') });
      const { requests, clicks, blobs } = watch();
      let saved: Blob | null = null;
      blobs.mockImplementation((b) => {
        saved = b as Blob;
        return 'blob:saved';
      });
      const { user } = render();
      await user.click(await screen.findByRole('button', { name: 'Download notes.txt' }));

      await waitFor(() => expect(clicks).toEqual([{ href: 'blob:saved', download: 'notes.txt' }]));
      expect(await saved!.text()).toBe('the exact bytes');
      expect(requests.map((u) => new URL(u).pathname + new URL(u).search)).toEqual([`/api/files/${f.id}/download`]);
    });

    it('stream mode: a file over 50 MB is opened from the presigned URL the API returns', async () => {
      const { owner, render } = setup();
      const f = addFile(owner.id, 'huge.iso', { size: 60 * 1024 * 1024 });
      const { requests, clicks, blobs } = watch();
      const { user } = render();
      await user.click(await screen.findByRole('button', { name: 'Download huge.iso' }));
      await waitFor(() => expect(clicks).toEqual([{ href: presigned(f.id), download: '' }]));
      expect(blobs).not.toHaveBeenCalled();
      expect(requests.map((u) => new URL(u).search)).toEqual(['?redirect=1&format=json']);
    });

    it('an older server without download_mode streams small files', async () => {
      const { owner, render } = setup();
      addFile(owner.id, 'old.txt', { content: new TextEncoder().encode('old') });
      server.use(http.get('/api/config', () => HttpResponse.json({ max_file_size_bytes: 1000, multipart_threshold_bytes: 0 })));
      const { clicks, blobs } = watch();
      blobs.mockReturnValue('blob:saved');
      const { user } = render();
      await user.click(await screen.findByRole('button', { name: 'Download old.txt' }));
      await waitFor(() => expect(clicks).toEqual([{ href: 'blob:saved', download: 'old.txt' }]));
    });

    it.each([
      ['a small file', 1024],
      ['a file over 50 MB', 60 * 1024 * 1024],
    ])('redirect mode: %s is a navigation to the presigned URL, never a cross-origin fetch', async (_, size) => {
      db.config.download_mode = 'redirect';
      const { owner, render } = setup();
      const f = addFile(owner.id, 'cold.bin', { location: 's3', size });
      const { requests, clicks, blobs } = watch();
      const { user } = render();
      await user.click(await screen.findByRole('button', { name: 'Download cold.bin' }));

      // The name comes from the URL's response-content-disposition: no
      // download attribute (browsers ignore it across origins anyway).
      await waitFor(() => expect(clicks).toEqual([{ href: presigned(f.id), download: '' }]));
      // One JSON request to the API; nothing fetched from storage, no blob.
      expect(requests).toEqual([asJson(f.id)]);
      expect(blobs).not.toHaveBeenCalled();
      expect(screen.queryByText(/Download of cold\.bin failed/)).not.toBeInTheDocument();
    });

    it('without the config (GET /api/config failed) downloads by presigned URL, which works in both modes', async () => {
      const { owner, render } = setup();
      const f = addFile(owner.id, 'any.txt');
      server.use(http.get('/api/config', () => HttpResponse.json({ detail: 'down', error_code: 'INTERNAL' }, { status: 500 })));
      const { requests, clicks } = watch();
      const { user } = render();
      await user.click(await screen.findByRole('button', { name: 'Download any.txt' }));
      await waitFor(() => expect(clicks).toEqual([{ href: presigned(f.id), download: '' }]));
      expect(requests).toEqual([asJson(f.id)]);
    });
  });

  it('shows a toast when a download fails', async () => {
    const { owner, render } = setup();
    addFile(owner.id, 'gone.txt');
    server.use(
      http.get('/api/files/:id/download', () => HttpResponse.json({ detail: 'file not found', error_code: 'FILE_NOT_FOUND' }, { status: 404 })),
    );
    const { user } = render();
    await user.click(await screen.findByRole('button', { name: 'Download gone.txt' }));
    expect(await screen.findByText('Download of gone.txt failed: file not found')).toBeInTheDocument();
  });

  it('filters by storage tier with the location parameter', async () => {
    const { owner, render } = setup();
    addFile(owner.id, 'hot-one.txt');
    addFile(owner.id, 'cold-one.txt', { location: 's3' });
    const { user } = render();
    await screen.findByRole('row', { name: /hot-one\.txt/ });
    await user.selectOptions(screen.getByRole('combobox', { name: 'Storage tier' }), 'S3');
    await waitFor(() => expect(screen.queryByRole('row', { name: /hot-one\.txt/ })).not.toBeInTheDocument());
    expect(row('cold-one.txt')).toBeInTheDocument();
  });
});
