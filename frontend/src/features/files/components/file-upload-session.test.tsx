import { delay, http, HttpResponse } from 'msw';
import { fireEvent, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import { FileUpload } from '@/features/files/components/file-upload';
import {
  loadPendingUploads,
  loadUnsentUploads,
  releaseAllFiles,
  saveUnsentUpload,
  savePendingUpload,
} from '@/features/files/utils/pending-uploads';
import { getToken } from '@/lib/auth-token';
import { session } from '@/lib/session';
import { STORAGE_ORIGIN } from '@/testing/handlers';
import { addUpload, db, startSession } from '@/testing/mock-db';
import { server } from '@/testing/server';
import { logIn, renderApp, renderWithProviders, screen } from '@/testing/test-utils';

// Uploads across the life of a session: picked before the config is
// known, kept when the session ends, resumed after the next login, listed
// after a reload, and carried over a refresh of the access token.

const CONTENT = '0123456789'; // multipart parts of 4 bytes: 4 + 4 + 2
const LAST_MODIFIED = 1_700_000_000_000;
const bigFile = () => new File([CONTENT], 'big.bin', { type: 'application/octet-stream', lastModified: LAST_MODIFIED });
const textFile = (name: string, content: string) => new File([content], name, { type: 'text/plain', lastModified: LAST_MODIFIED });

function uploadRow(name: string) {
  return screen.getByRole('listitem', { name });
}

function recordRequests() {
  const seen: string[] = [];
  server.events.on('request:start', ({ request }) => {
    const u = new URL(request.url);
    const part = u.searchParams.get('partNumber');
    seen.push(part ? `PUT ${u.pathname.split('/').pop()}#${part}` : `${request.method} ${u.pathname}`);
  });
  return seen;
}

// GET /api/config answers only when released.
function slowConfig() {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  server.use(
    http.get('/api/config', async () => {
      await gate;
      return HttpResponse.json(db.config);
    }),
  );
  return release;
}

describe('files picked before the config is known', () => {
  it('are queued, then checked and sent when GET /api/config answers', async () => {
    const release = slowConfig();
    const me = logIn();
    const { user } = renderWithProviders(<FileUpload userId={me.id} />);
    const input = screen.getByLabelText('Choose files to upload') as HTMLInputElement;
    expect(screen.getByText(/Loading upload limits/)).toBeInTheDocument();
    // Picked the instant the upload area appears: nothing may be dropped.
    await user.upload(input, [textFile('early.txt', 'picked at once')]);
    expect(within(uploadRow('early.txt')).getByText('Waiting for the upload limits')).toBeInTheDocument();
    expect(db.files).toHaveLength(0);
    release();
    expect(await within(uploadRow('early.txt')).findByText('Uploaded')).toBeInTheDocument();
    expect(new TextDecoder().decode(db.files[0].content)).toBe('picked at once');
    expect(loadUnsentUploads(me.id)).toEqual([]);
  });

  it('a dropped file is queued the same; one too large is refused once the limit is known', async () => {
    const release = slowConfig();
    db.config.max_file_size_bytes = 8;
    logIn();
    renderWithProviders(<FileUpload />);
    const small = textFile('ok.txt', 'fits');
    const large = textFile('large.txt', 'far too large');
    fireEvent.drop(screen.getByTestId('dropzone'), {
      dataTransfer: {
        files: [small, large],
        items: [small, large].map((f) => ({ kind: 'file', type: f.type, getAsFile: () => f })),
        types: ['Files'],
      },
    });
    expect(await screen.findByRole('listitem', { name: 'large.txt' })).toBeInTheDocument();
    release();
    expect(await within(uploadRow('large.txt')).findByText('Too large')).toBeInTheDocument();
    expect(await within(uploadRow('ok.txt')).findByText('Uploaded')).toBeInTheDocument();
    expect(db.files.map((f) => f.original_filename)).toEqual(['ok.txt']);
  });

  it('a dropped folder still being read when the config answers is sent too', async () => {
    const release = slowConfig();
    logIn();
    renderWithProviders(<FileUpload />);
    // The folder's entries are read when readNow() is called: the drop's
    // onDrop is then one of the render before the config was known.
    const file = textFile('late.txt', 'read late');
    let readNow: () => void = () => undefined;
    const reading = new Promise<void>((r) => {
      readNow = r;
    });
    let listed = false;
    const folder = {
      isDirectory: true,
      isFile: false,
      name: 'folder',
      fullPath: '/folder',
      createReader: () => ({
        readEntries: (done: (entries: unknown[]) => void) => {
          if (listed) return done([]);
          listed = true;
          void reading.then(() =>
            done([{ isFile: true, isDirectory: false, name: 'late.txt', fullPath: '/folder/late.txt', file: (ok: (f: File) => void) => ok(file) }]),
          );
        },
      }),
    };
    fireEvent.drop(screen.getByTestId('dropzone'), {
      dataTransfer: {
        files: [],
        items: [{ kind: 'file', type: '', getAsFile: () => null, webkitGetAsEntry: () => folder }],
        types: ['Files'],
      },
    });
    release();
    await screen.findByText(/^Up to .* per file$/);
    readNow();
    expect(await within(await screen.findByRole('listitem', { name: 'late.txt' })).findByText('Uploaded')).toBeInTheDocument();
    expect(db.files.map((f) => f.original_filename)).toEqual(['late.txt']);
  });

  it('can be cancelled while they wait', async () => {
    const release = slowConfig();
    logIn();
    const { user } = renderWithProviders(<FileUpload />);
    await user.upload(screen.getByLabelText('Choose files to upload') as HTMLInputElement, [textFile('x.txt', 'x')]);
    await user.click(within(uploadRow('x.txt')).getByRole('button', { name: 'Cancel upload of x.txt' }));
    release();
    await screen.findByText(/^Up to .* per file$/);
    expect(within(uploadRow('x.txt')).getByText('Cancelled')).toBeInTheDocument();
    expect(db.files).toHaveLength(0);
  });
});

describe('uploads when the session ends', () => {
  it('a streamed upload cut off by the end of the session goes on by itself after the next login', async () => {
    const me = logIn();
    db.users[0].password = 'correct horse battery';
    // The upload hangs until the session is ended from elsewhere.
    let hang = true;
    server.use(
      http.post('/api/files/upload', async () => {
        if (!hang) return undefined;
        await delay('infinite');
        return undefined;
      }),
    );
    const { user, router, queryClient } = renderApp('/dashboard');
    await screen.findByText(/^Up to .* per file$/);
    await user.upload(screen.getByLabelText('Choose files to upload') as HTMLInputElement, [textFile('report.txt', 'quarterly numbers')]);
    await within(uploadRow('report.txt')).findByText(/^\d+%$/);

    // Another device logs this one out: the next request ends the session.
    db.sessions[0].ended = 'revoked';
    hang = false;
    void queryClient.invalidateQueries({ queryKey: ['files'] });
    await waitFor(() => expect(getToken()).toBeNull());
    expect(await screen.findByText(/1 upload is paused: it goes on after you log in again/)).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/login');
    expect(loadUnsentUploads(me.id).map((e) => e.filename)).toEqual(['report.txt']);

    await user.type(await screen.findByLabelText('Email'), me.email);
    await user.type(screen.getByLabelText('Password'), 'correct horse battery');
    await user.click(screen.getByRole('button', { name: 'Log in' }));
    // Back where the session ended.
    await waitFor(() => expect(router.state.location.pathname).toBe('/dashboard'));
    expect(await within(await screen.findByRole('listitem', { name: 'report.txt' })).findByText('Uploaded')).toBeInTheDocument();
    expect(new TextDecoder().decode(db.files[0].content)).toBe('quarterly numbers');
    expect(loadUnsentUploads(me.id)).toEqual([]);
  });

  it('a multipart upload resumes after the next login without sending its stored parts again', async () => {
    db.config.multipart_threshold_bytes = 4;
    const me = logIn();
    // Part 3 hangs: parts 1 and 2 are stored when the session ends.
    let hang = true;
    server.use(
      http.put(`${STORAGE_ORIGIN}/hot/:id`, async ({ request }) => {
        if (hang && new URL(request.url).searchParams.get('partNumber') === '3') await delay('infinite');
        return undefined;
      }),
    );
    const seen = recordRequests();
    const { user, unmount } = renderWithProviders(<FileUpload userId={me.id} />);
    await screen.findByText(/^Up to .* per file$/);
    await user.upload(screen.getByLabelText('Choose files to upload') as HTMLInputElement, [bigFile()]);
    await waitFor(() => expect(db.multipart.get('up-1')?.parts.size).toBe(2));
    // The session ends: the dashboard goes away.
    unmount();
    session.end('revoked');
    hang = false;
    expect(loadPendingUploads(me.id).map((e) => e.upload_id)).toEqual(['up-1']);

    // The next login, in the same page.
    session.begin(startSession(db.users[0]).answer);
    seen.length = 0;
    renderWithProviders(<FileUpload userId={me.id} />);
    expect(await screen.findByText('Resuming 1 unfinished upload')).toBeInTheDocument();
    expect(await within(await screen.findByRole('listitem', { name: 'big.bin' })).findByText('Uploaded')).toBeInTheDocument();
    expect(seen.filter((s) => s.startsWith('PUT') || s.includes('/api/files/'))).toEqual([
      'GET /api/files/uploads/up-1',
      'PUT up-1#3',
      'POST /api/files/uploads/up-1/complete',
    ]);
    expect(new TextDecoder().decode(db.files[0].content)).toBe(CONTENT);
    expect(loadPendingUploads(me.id)).toEqual([]);
  });

  it('keeps the entry of an upload refused with 401 as the session ended', async () => {
    const me = logIn();
    server.use(http.post('/api/files/upload', () => HttpResponse.json({ detail: 'no', error_code: 'UNAUTHORIZED' }, { status: 401 })));
    db.sessions[0].ended = 'revoked';
    const { user } = renderWithProviders(<FileUpload userId={me.id} />);
    await screen.findByText(/^Up to .* per file$/);
    await user.upload(screen.getByLabelText('Choose files to upload') as HTMLInputElement, [textFile('kept.txt', 'k')]);
    await waitFor(() => expect(getToken()).toBeNull());
    expect(loadUnsentUploads(me.id).map((e) => e.filename)).toEqual(['kept.txt']);
  });
});

describe('after a reload: unfinished uploads are listed', () => {
  function leftByEarlierPage(userId: number) {
    const id = addUpload(userId, 'big.bin', new TextEncoder().encode(CONTENT), { partSize: 4, done: [1, 2] });
    savePendingUpload(userId, {
      upload_id: id,
      filename: 'big.bin',
      size: 10,
      last_modified: LAST_MODIFIED,
      part_size: 4,
      expires_at: db.multipart.get(id)!.expires_at,
    });
    saveUnsentUpload(userId, 'u-earlier', textFile('notes.txt', 'some notes'));
    // A new page: the File objects are gone.
    releaseAllFiles();
    return id;
  }

  it('lists them with one action; the files picked again resume or upload, and the list empties', async () => {
    db.config.multipart_threshold_bytes = 4;
    const me = logIn();
    const id = leftByEarlierPage(me.id);
    const seen = recordRequests();
    const { user } = renderWithProviders(<FileUpload userId={me.id} />);
    const panel = await screen.findByRole('region', { name: '2 uploads did not finish' });
    const listed = within(panel).getByRole('list', { name: 'Unfinished uploads' });
    expect(within(listed).getByText(/big\.bin/)).toBeInTheDocument();
    expect(within(listed).getByText(/notes\.txt/)).toBeInTheDocument();
    expect(within(panel).getByRole('button', { name: 'Choose files to resume' })).toBeInTheDocument();

    await screen.findByText(/^Up to .* per file$/);
    await user.upload(screen.getByLabelText('Choose files to upload') as HTMLInputElement, [bigFile(), textFile('notes.txt', 'some notes')]);
    expect(await within(uploadRow('big.bin')).findByText('Uploaded')).toBeInTheDocument();
    expect(await within(uploadRow('notes.txt')).findByText('Uploaded')).toBeInTheDocument();
    expect(seen).toContain(`PUT ${id}#3`);
    expect(seen).not.toContain(`PUT ${id}#1`);
    expect(screen.queryByRole('region', { name: /did not finish/ })).not.toBeInTheDocument();
    expect(loadPendingUploads(me.id)).toEqual([]);
    expect(loadUnsentUploads(me.id)).toEqual([]);
  });

  it('does not list an upload another tab is sending (its Web Lock is held)', async () => {
    const me = logIn();
    const id = leftByEarlierPage(me.id);
    // Another tab holds the lock of the multipart upload.
    const held = [{ name: `hybrid-storage.upload.${me.id}.${id}` }];
    Object.defineProperty(navigator, 'locks', {
      configurable: true,
      value: { request: () => new Promise(() => undefined), query: async () => ({ held }) },
    });
    try {
      renderWithProviders(<FileUpload userId={me.id} />);
      const panel = await screen.findByRole('region', { name: /did not finish/ });
      await waitFor(() => expect(panel).toHaveAccessibleName('1 upload did not finish'));
      expect(within(panel).queryByText(/big\.bin/)).not.toBeInTheDocument();
      expect(within(panel).getByText(/notes\.txt/)).toBeInTheDocument();
    } finally {
      Reflect.deleteProperty(navigator, 'locks');
    }
  });

  it('Forget them ends the server’s uploads and empties the list', async () => {
    const me = logIn();
    leftByEarlierPage(me.id);
    const { user } = renderWithProviders(<FileUpload userId={me.id} />);
    const panel = await screen.findByRole('region', { name: '2 uploads did not finish' });
    await user.click(within(panel).getByRole('button', { name: 'Forget them' }));
    expect(screen.queryByRole('region', { name: /did not finish/ })).not.toBeInTheDocument();
    await waitFor(() => expect(db.multipart.size).toBe(0));
    await waitFor(() => expect(loadPendingUploads(me.id)).toEqual([]));
    expect(loadUnsentUploads(me.id)).toEqual([]);
  });
});

describe('a refresh of the access token during an upload', () => {
  it('a multipart upload whose token expired before completion refreshes once and completes', async () => {
    db.config.multipart_threshold_bytes = 4;
    const me = logIn();
    const first = getToken();
    // The server stops taking the first token halfway through the upload.
    let parts = 0;
    server.use(
      http.put(`${STORAGE_ORIGIN}/hot/:id`, () => {
        parts += 1;
        return undefined;
      }),
      http.post('/api/files/uploads/:id/complete', ({ request }) =>
        request.headers.get('Authorization') === `Bearer ${first}`
          ? HttpResponse.json({ detail: 'token expired', error_code: 'TOKEN_EXPIRED' }, { status: 401 })
          : undefined,
      ),
    );
    const seen = recordRequests();
    const { user } = renderWithProviders(<FileUpload userId={me.id} />);
    await screen.findByText(/^Up to .* per file$/);
    await user.upload(screen.getByLabelText('Choose files to upload') as HTMLInputElement, [bigFile()]);
    expect(await within(uploadRow('big.bin')).findByText('Uploaded')).toBeInTheDocument();
    expect(parts).toBe(3);
    expect(seen.filter((s) => s.startsWith('POST'))).toEqual([
      'POST /api/files/uploads',
      'POST /api/files/uploads/up-1/complete',
      'POST /api/auth/refresh',
      'POST /api/files/uploads/up-1/complete',
    ]);
    expect(getToken()).not.toBe(first);
  });
});
