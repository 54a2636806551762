import { afterEach, describe, expect, it, vi } from 'vitest';
import { delay, http, HttpResponse } from 'msw';
import { fireEvent, waitFor, within } from '@testing-library/react';

import { finishPolling } from '@/features/files/api/multipart-upload';
import { FileUpload } from '@/features/files/components/file-upload';
import { loadPendingUploads, savePendingUpload } from '@/features/files/utils/pending-uploads';
import { STORAGE_ORIGIN } from '@/testing/handlers';
import { addUpload, completeUpload, createUser, db } from '@/testing/mock-db';
import { server } from '@/testing/server';
import { logIn, renderWithProviders, screen } from '@/testing/test-utils';

function textFile(name: string, content: string) {
  return new File([content], name, { type: 'text/plain' });
}

async function renderUpload() {
  logIn();
  const r = renderWithProviders(<FileUpload />);
  // The dropzone waits for the server's limits from GET /api/config.
  await screen.findByText(/^Up to .* per file$/);
  return { ...r, input: screen.getByLabelText('Choose files to upload') as HTMLInputElement };
}

function uploadRow(name: string) {
  return screen.getByRole('listitem', { name });
}

describe('FileUpload', () => {
  it('uploads several files at once, each with its own progress bar, and says so in one toast', async () => {
    const { user, input } = await renderUpload();
    await user.upload(input, [textFile('a.txt', 'alpha'), textFile('b.txt', 'bravo!')]);

    await waitFor(() => expect(within(uploadRow('a.txt')).getByText('Uploaded')).toBeInTheDocument());
    await waitFor(() => expect(within(uploadRow('b.txt')).getByText('Uploaded')).toBeInTheDocument());
    expect(within(uploadRow('a.txt')).getByRole('progressbar', { name: 'Upload progress for a.txt' })).toHaveAttribute(
      'aria-valuenow',
      '100',
    );
    expect(await screen.findByText('Uploaded 2 files')).toBeInTheDocument();
    expect(screen.queryByText('Uploaded a.txt')).not.toBeInTheDocument();
    expect(screen.queryByText('Uploaded b.txt')).not.toBeInTheDocument();
    expect(db.files.map((f) => [f.original_filename, new TextDecoder().decode(f.content)]).sort()).toEqual([
      ['a.txt', 'alpha'],
      ['b.txt', 'bravo!'],
    ]);
  });

  it('folds the uploaded files of earlier batches into one line that Show opens', async () => {
    const { user, input } = await renderUpload();
    for (const name of ['one.txt', 'two.txt', 'three.txt']) {
      await user.upload(input, textFile(name, name));
      await waitFor(() => expect(within(uploadRow(name)).getByText('Uploaded')).toBeInTheDocument());
    }
    // The newest batch keeps its row; the two before are one line.
    expect(screen.queryByRole('listitem', { name: 'one.txt' })).not.toBeInTheDocument();
    expect(screen.queryByRole('listitem', { name: 'two.txt' })).not.toBeInTheDocument();
    expect(screen.getByText('2 earlier uploads done')).toBeInTheDocument();
    const show = screen.getByRole('button', { name: 'Show' });
    expect(show).toHaveAttribute('aria-expanded', 'false');
    await user.click(show);
    expect(within(uploadRow('one.txt')).getByText('Uploaded')).toBeInTheDocument();
    expect(within(uploadRow('two.txt')).getByText('Uploaded')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Hide' }));
    expect(screen.queryByRole('listitem', { name: 'one.txt' })).not.toBeInTheDocument();
  });

  it('announces one way to choose files: the button, not the file input behind it', async () => {
    const { input } = await renderUpload();
    expect(input).toHaveAttribute('aria-hidden', 'true');
    expect(input).toHaveAttribute('tabindex', '-1');
    expect(screen.getByLabelText('Choose a folder to upload')).not.toBeVisible();
    expect(screen.getByRole('button', { name: 'Choose files' })).toBeInTheDocument();
  });

  it('accepts files dropped on the drop zone', async () => {
    await renderUpload();
    const file = textFile('dropped.txt', 'from a drop');
    fireEvent.drop(screen.getByTestId('dropzone'), {
      dataTransfer: { files: [file], items: [{ kind: 'file', type: file.type, getAsFile: () => file }], types: ['Files'] },
    });
    await waitFor(() => expect(within(uploadRow('dropped.txt')).getByText('Uploaded')).toBeInTheDocument());
    expect(db.files).toHaveLength(1);
  });

  it('rejects a file above the server limit before sending it', async () => {
    db.config.max_file_size_bytes = 8;
    let posts = 0;
    server.use(
      http.post('/api/files/upload', () => {
        posts += 1;
        return HttpResponse.json({}, { status: 500 });
      }),
    );
    const { user, input } = await renderUpload();
    expect(screen.getByText('Up to 8 B per file')).toBeInTheDocument();
    await user.upload(input, [textFile('big.txt', '0123456789')]);
    const row = uploadRow('big.txt');
    expect(within(row).getByText('Too large')).toBeInTheDocument();
    expect(within(row).getByText('File is 10 B, 2 B over the 8 B limit.')).toBeInTheDocument();
    expect(screen.getByText('big.txt is too large (limit 8 B)')).toBeInTheDocument();
    expect(within(row).queryByRole('button', { name: /Retry/ })).not.toBeInTheDocument();
    expect(posts).toBe(0);
  });

  it('rejects a file that does not fit what the storage quota leaves, before sending it', async () => {
    db.quota = 15;
    let posts = 0;
    server.use(
      http.post('/api/files/upload', () => {
        posts += 1;
        return HttpResponse.json({ detail: 'not this time', error_code: 'INTERNAL' }, { status: 500 });
      }),
    );
    const { user, input, queryClient } = await renderUpload();
    await waitFor(() => expect(queryClient.getQueryData(['usage'])).toBeDefined());
    // Two files of 10 B dropped together: the first fits, the second no longer does.
    await user.upload(input, [textFile('first.txt', '0123456789'), textFile('second.txt', '0123456789')]);
    const row = uploadRow('second.txt');
    expect(within(row).getByText('File is 10 B; your storage quota has 5 B left.')).toBeInTheDocument();
    expect(screen.getByText('second.txt does not fit in your storage quota (5 B left)')).toBeInTheDocument();
    await waitFor(() => expect(posts).toBe(1)); // only first.txt was sent
  });

  it('shows a failure with the server message, then retries the same file', async () => {
    let attempts = 0;
    server.use(
      http.post('/api/files/upload', () => {
        attempts += 1;
        if (attempts === 1) {
          return HttpResponse.json({ detail: 'storage is unavailable', error_code: 'INTERNAL' }, { status: 503 });
        }
        return undefined; // fall through to the default handler: success
      }),
    );
    const { user, input } = await renderUpload();
    await user.upload(input, [textFile('flaky.txt', 'retry me')]);

    const row = uploadRow('flaky.txt');
    expect(await within(row).findByText('Failed')).toBeInTheDocument();
    expect(screen.getByText('Upload of flaky.txt failed: storage is unavailable')).toBeInTheDocument();
    expect(db.files).toHaveLength(0);

    await user.click(within(row).getByRole('button', { name: 'Retry upload of flaky.txt' }));
    expect(await within(row).findByText('Uploaded')).toBeInTheDocument();
    expect(attempts).toBe(2);
    expect(db.files.map((f) => f.original_filename)).toEqual(['flaky.txt']);
  });

  it('shows the server refusing a file as too large (413)', async () => {
    server.use(
      http.post('/api/files/upload', () =>
        HttpResponse.json({ detail: 'file exceeds 100 MB', error_code: 'FILE_TOO_LARGE' }, { status: 413 }),
      ),
    );
    const { user, input } = await renderUpload();
    await user.upload(input, [textFile('x.bin', 'x')]);
    expect(await within(uploadRow('x.bin')).findByText('Too large for the server: file exceeds 100 MB')).toBeInTheDocument();
  });

  it('cancels an upload in flight', async () => {
    const abortSpy = vi.spyOn(XMLHttpRequest.prototype, 'abort');
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    server.use(
      http.post('/api/files/upload', async () => {
        await gate;
        return HttpResponse.json({ detail: 'late', error_code: 'LATE' }, { status: 500 });
      }),
    );
    const { user, input } = await renderUpload();
    await user.upload(input, [textFile('slow.txt', 'slow')]);
    const row = uploadRow('slow.txt');
    await user.click(within(row).getByRole('button', { name: 'Cancel upload of slow.txt' }));

    expect(within(row).getByText('Cancelled')).toBeInTheDocument();
    expect(abortSpy).toHaveBeenCalled();
    // A late answer to the aborted request changes nothing.
    release();
    await delay(50);
    expect(within(row).getByText('Cancelled')).toBeInTheDocument();
    expect(within(row).getByRole('button', { name: 'Retry upload of slow.txt' })).toBeInTheDocument();
    // Cancelling is not a failure: no error toast.
    expect(screen.queryByText(/failed/)).not.toBeInTheDocument();
  });

  it('sends large files through the presigned multipart flow with per-part progress', async () => {
    db.config.multipart_threshold_bytes = 4; // parts of 4 bytes in the mock
    let releaseLastPart: () => void = () => undefined;
    const lastPartGate = new Promise<void>((resolve) => {
      releaseLastPart = resolve;
    });
    server.use(
      http.put('http://storage.test/hot/:id', async ({ request }) => {
        if (new URL(request.url).searchParams.get('partNumber') === '3') await lastPartGate;
        return undefined;
      }),
    );
    let completeBody: unknown = null;
    server.events.on('request:start', async ({ request }) => {
      if (request.url.endsWith('/complete')) completeBody = await request.clone().json();
    });
    const { user, input } = await renderUpload();
    await user.upload(input, [textFile('big.log', '0123456789')]); // 10 bytes → parts 4 + 4 + 2

    const row = uploadRow('big.log');
    const bar = within(row).getByRole('progressbar', { name: 'Upload progress for big.log' });
    // Parts 1 and 2 are done (8 of 10 bytes), part 3 is still in flight.
    await waitFor(() => expect(bar).toHaveAttribute('aria-valuenow', '80'));
    expect(within(row).getByText('80% (multipart)')).toBeInTheDocument();

    releaseLastPart();
    expect(await within(row).findByText('Uploaded')).toBeInTheDocument();
    expect(completeBody).toEqual({
      parts: [
        { part_number: 1, etag: '"etag-1"' },
        { part_number: 2, etag: '"etag-2"' },
        { part_number: 3, etag: '"etag-3"' },
      ],
    });
    expect(new TextDecoder().decode(db.files[0].content)).toBe('0123456789');
    server.events.removeAllListeners();
  });

  it('says the storage server refused a part the browser blocked (CORS) and names the setting, not the connection', async () => {
    db.config.multipart_threshold_bytes = 4;
    const blocked = { on: true };
    server.use(http.put(`${STORAGE_ORIGIN}/hot/:id`, () => (blocked.on ? HttpResponse.error() : undefined)));
    const { user, input } = await renderUpload();
    await user.upload(input, [textFile('big.log', '0123456789')]);

    const row = uploadRow('big.log');
    const alert = await within(row).findByRole('alert');
    const refused = `The storage server (${STORAGE_ORIGIN}) refused this browser's request: its CORS must allow ${window.location.origin}. Add the origin to CORS_ORIGINS, or to the hot bucket's CORS (docs/deploy.md).`;
    expect(alert).toHaveTextContent(`${refused} Resume once that is fixed.`);
    expect(alert).not.toHaveTextContent(/connection/i);
    expect(screen.getByText(`Upload of big.log was blocked: ${refused}`)).toBeInTheDocument();

    // Once the CORS is fixed, Resume sends the parts and completes.
    blocked.on = false;
    await user.click(within(row).getByRole('button', { name: 'Resume upload of big.log' }));
    expect(await within(row).findByText('Uploaded')).toBeInTheDocument();
    expect(new TextDecoder().decode(db.files[0].content)).toBe('0123456789');
  });

  it('keeps small files on the simple upload even when multipart is available', async () => {
    db.config.multipart_threshold_bytes = 1024;
    let created = 0;
    server.use(
      http.post('/api/files/uploads', () => {
        created += 1;
        return undefined;
      }),
    );
    const { user, input } = await renderUpload();
    await user.upload(input, [textFile('small.txt', 'tiny')]);
    expect(await within(uploadRow('small.txt')).findByText('Uploaded')).toBeInTheDocument();
    expect(created).toBe(0);
  });

  it('aborts the multipart upload on the server when cancelled', async () => {
    db.config.multipart_threshold_bytes = 4;
    server.use(
      http.put('http://storage.test/hot/:id', async () => {
        await delay('infinite');
        return undefined;
      }),
    );
    const aborted: string[] = [];
    server.events.on('request:start', ({ request }) => {
      if (request.method === 'DELETE') aborted.push(new URL(request.url).pathname);
    });
    const { user, input } = await renderUpload();
    await user.upload(input, [textFile('stop.bin', '0123456789')]);
    const row = uploadRow('stop.bin');
    await within(row).findByText('0% (multipart)');
    await user.click(within(row).getByRole('button', { name: 'Cancel upload of stop.bin' }));
    expect(within(row).getByText('Cancelled')).toBeInTheDocument();
    await waitFor(() => expect(aborted).toEqual(['/api/files/uploads/up-1']));
    expect(db.multipart.size).toBe(0);
    expect(db.files).toHaveLength(0);
    server.events.removeAllListeners();
  });

  it('uploads at most four files at a time; the rest wait and can be cancelled before they start', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const started: string[] = [];
    server.use(
      http.post('/api/files/upload', async ({ request }) => {
        const form = await request.clone().formData();
        started.push((form.get('file') as File).name);
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await gate;
        inFlight -= 1;
        return undefined;
      }),
    );
    const { user, input } = await renderUpload();
    const names = ['1.txt', '2.txt', '3.txt', '4.txt', '5.txt', '6.txt'];
    await user.upload(input, names.map((n) => textFile(n, `content ${n}`)));

    await waitFor(() => expect(started).toHaveLength(4));
    expect(within(uploadRow('5.txt')).getByText('Waiting')).toBeInTheDocument();
    expect(within(uploadRow('6.txt')).getByText('Waiting')).toBeInTheDocument();
    await user.click(within(uploadRow('6.txt')).getByRole('button', { name: 'Cancel upload of 6.txt' }));
    expect(within(uploadRow('6.txt')).getByText('Cancelled')).toBeInTheDocument();

    release();
    for (const n of ['1.txt', '2.txt', '3.txt', '4.txt', '5.txt']) {
      expect(await within(uploadRow(n)).findByText('Uploaded')).toBeInTheDocument();
    }
    expect(maxInFlight).toBe(4);
    expect([...started].sort()).toEqual(['1.txt', '2.txt', '3.txt', '4.txt', '5.txt']);
    expect(db.files).toHaveLength(5);
  });
});

describe('FileUpload: resuming interrupted multipart uploads', () => {
  const CONTENT = '0123456789'; // parts of 4 bytes: 4 + 4 + 2
  const LAST_MODIFIED = 1_700_000_000_000;
  const bigFile = (lastModified = LAST_MODIFIED) =>
    new File([CONTENT], 'big.bin', { type: 'application/octet-stream', lastModified });

  // An "offline" event also pauses TanStack Query (a global online manager):
  // be back online for the next test.
  afterEach(() => {
    window.dispatchEvent(new Event('online'));
  });

  async function renderResumable(onUploaded?: () => void) {
    db.config.multipart_threshold_bytes = 4;
    const me = logIn();
    const r = renderWithProviders(<FileUpload userId={me.id} onUploaded={onUploaded} />);
    await screen.findByText(/^Up to .* per file$/);
    return { ...r, me, input: screen.getByLabelText('Choose files to upload') as HTMLInputElement };
  }

  // Every API and storage request, in order ("PUT up-1#2" for a part).
  function recordRequests() {
    const seen: string[] = [];
    server.events.on('request:start', ({ request }) => {
      const u = new URL(request.url);
      const part = u.searchParams.get('partNumber');
      seen.push(part ? `PUT ${u.pathname.split('/').pop()}#${part}` : `${request.method} ${u.pathname}`);
    });
    return seen;
  }
  const count = (seen: string[], what: string) => seen.filter((s) => s === what).length;

  // Storage refuses part n while failing is set (503: retried, then given up).
  function storageFailing(n: string) {
    const state = { failing: true };
    server.use(
      http.put(`${STORAGE_ORIGIN}/hot/:id`, ({ request }) => {
        if (state.failing && new URL(request.url).searchParams.get('partNumber') === n) {
          return new HttpResponse(null, { status: 503 });
        }
        return undefined;
      }),
    );
    return state;
  }

  async function interruptedUpload() {
    const r = await renderResumable();
    const storage = storageFailing('2');
    const seen = recordRequests();
    await r.user.upload(r.input, [bigFile()]);
    const row = uploadRow('big.bin');
    expect(await within(row).findByText('Interrupted at 60%')).toBeInTheDocument();
    return { ...r, storage, seen, row };
  }

  it('keeps the server’s upload when a part fails after its retries, and offers Resume and Discard', async () => {
    const { me, seen, row } = await interruptedUpload();

    expect(count(seen, 'PUT up-1#2')).toBe(3);
    expect(seen.some((s) => s.startsWith('DELETE'))).toBe(false);
    expect([...db.multipart.get('up-1')!.parts.keys()].sort()).toEqual([1, 3]);
    expect(within(row).getByRole('alert')).toHaveTextContent(
      'Request failed (503) Resume to send the rest; the parts already sent are kept.',
    );
    expect(screen.getByText('Upload of big.bin was interrupted: Request failed (503)')).toBeInTheDocument();
    expect(within(row).getByRole('progressbar', { name: 'Upload progress for big.bin' })).toHaveAttribute('aria-valuenow', '60');
    expect(within(row).getByRole('button', { name: 'Resume upload of big.bin' })).toBeEnabled();
    expect(within(row).getByRole('button', { name: 'Discard upload of big.bin' })).toBeEnabled();
    expect(within(row).queryByRole('button', { name: /Retry|Cancel|Dismiss/ })).not.toBeInTheDocument();
    // "Clear finished" leaves it: it is not finished.
    expect(screen.queryByRole('button', { name: 'Clear finished' })).not.toBeInTheDocument();
    expect(loadPendingUploads(me.id)).toEqual([
      {
        upload_id: 'up-1',
        filename: 'big.bin',
        size: 10,
        last_modified: LAST_MODIFIED,
        part_size: 4,
        expires_at: db.multipart.get('up-1')!.expires_at,
      },
    ]);
  });

  it('Resume sends only the missing parts, from the stored bytes on, and completes with every part in order', async () => {
    const { user, me, storage, seen, row } = await interruptedUpload();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    server.use(
      http.put(`${STORAGE_ORIGIN}/hot/:id`, async () => {
        await gate;
        return undefined;
      }),
    );
    storage.failing = false;
    let completeBody: unknown = null;
    server.events.on('request:start', async ({ request }) => {
      if (request.url.endsWith('/complete')) completeBody = await request.clone().json();
    });
    // Every value the progress bar shows from the click on.
    const shown: number[] = [];
    const observer = new MutationObserver(() => {
      const bar = row.querySelector('[role="progressbar"]');
      if (bar) shown.push(Number(bar.getAttribute('aria-valuenow')));
    });
    observer.observe(row, { subtree: true, childList: true, attributes: true });

    await user.click(within(row).getByRole('button', { name: 'Resume upload of big.bin' }));
    expect(await within(row).findByText('60% (multipart)')).toBeInTheDocument();
    await waitFor(() => expect(count(seen, 'PUT up-1#2')).toBe(4));
    release();
    expect(await within(row).findByText('Uploaded')).toBeInTheDocument();
    observer.disconnect();

    expect(seen).toContain('GET /api/files/uploads/up-1');
    expect(count(seen, 'PUT up-1#1')).toBe(1);
    expect(count(seen, 'PUT up-1#3')).toBe(1);
    expect(count(seen, 'POST /api/files/uploads')).toBe(1);
    expect(completeBody).toEqual({ parts: [1, 2, 3].map((n) => ({ part_number: n, etag: `"etag-${n}"` })) });
    expect(new TextDecoder().decode(db.files[0].content)).toBe(CONTENT);
    expect(shown.length).toBeGreaterThan(0);
    expect(Math.min(...shown)).toBe(60);
    expect(screen.getByText('Uploaded big.bin')).toBeInTheDocument();
    expect(loadPendingUploads(me.id)).toEqual([]);
  });

  it('starts a fresh upload of the file when the one to resume has expired (404), and says so', async () => {
    const { user, me, storage, seen, row } = await interruptedUpload();
    db.multipart.delete('up-1'); // the server's janitor ended it
    storage.failing = false;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    server.use(
      http.put(`${STORAGE_ORIGIN}/hot/:id`, async ({ request }) => {
        if (new URL(request.url).searchParams.get('partNumber') === '3') await gate;
        return undefined;
      }),
    );

    await user.click(within(row).getByRole('button', { name: 'Resume upload of big.bin' }));
    expect(await within(row).findByText('80% (multipart) · the earlier upload had expired, so it started over')).toBeInTheDocument();
    expect(loadPendingUploads(me.id).map((e) => e.upload_id)).toEqual(['up-2']);
    release();
    expect(await within(row).findByText('Uploaded')).toBeInTheDocument();

    const resumed = seen.slice(seen.indexOf('GET /api/files/uploads/up-1'));
    expect(resumed.slice(0, 2)).toEqual(['GET /api/files/uploads/up-1', 'POST /api/files/uploads']);
    expect(resumed.filter((s) => s.startsWith('PUT')).sort()).toEqual(['PUT up-2#1', 'PUT up-2#2', 'PUT up-2#3']);
    expect(new TextDecoder().decode(db.files[0].content)).toBe(CONTENT);
    expect(loadPendingUploads(me.id)).toEqual([]);
  });

  it('shows a refused resume (403) and offers only to dismiss it', async () => {
    const { user, me, storage, seen, row } = await interruptedUpload();
    storage.failing = false;
    db.multipart.get('up-1')!.owner = createUser('someone@example.com').id;

    await user.click(within(row).getByRole('button', { name: 'Resume upload of big.bin' }));
    expect(await within(row).findByText('Failed')).toBeInTheDocument();
    expect(within(row).getByRole('alert')).toHaveTextContent('This upload cannot be resumed: not your upload');
    expect(within(row).getAllByRole('button').map((b) => b.getAttribute('aria-label'))).toEqual(['Dismiss big.bin']);
    expect(count(seen, 'POST /api/files/uploads')).toBe(1); // no new upload started
    expect(loadPendingUploads(me.id)).toEqual([]);

    await user.click(within(row).getByRole('button', { name: 'Dismiss big.bin' }));
    expect(screen.queryByRole('listitem', { name: 'big.bin' })).not.toBeInTheDocument();
  });

  describe('the caps on uploads in progress', () => {
    const otherFile = () => new File([CONTENT], 'other.bin', { type: 'application/octet-stream', lastModified: LAST_MODIFIED });

    it('429 TOO_MANY_UPLOADS says to finish or cancel one; after a Discard, Retry goes through', async () => {
      const { user, input, storage, seen, row } = await interruptedUpload();
      db.uploadCaps.sessions = 1;
      await user.upload(input, [otherFile()]);
      const other = uploadRow('other.bin');
      expect(await within(other).findByText('Failed')).toBeInTheDocument();
      expect(within(other).getByRole('alert')).toHaveTextContent(
        /^You have too many uploads in progress\. Finish or cancel one, then try again\.$/,
      );
      expect(screen.getByText('Upload of other.bin failed: You have too many uploads in progress. Finish or cancel one, then try again.')).toBeInTheDocument();
      expect(count(seen, 'POST /api/files/uploads')).toBe(2);

      await user.click(within(row).getByRole('button', { name: 'Discard upload of big.bin' }));
      await waitFor(() => expect(screen.queryByRole('listitem', { name: 'big.bin' })).not.toBeInTheDocument());
      storage.failing = false;
      await user.click(within(other).getByRole('button', { name: 'Retry upload of other.bin' }));
      expect(await within(other).findByText('Uploaded')).toBeInTheDocument();
      expect(db.files.map((f) => f.original_filename)).toEqual(['other.bin']);
    });

    it('413 UPLOAD_QUOTA_EXCEEDED speaks of the uploads in progress, not of the file being too large', async () => {
      const { user, input } = await interruptedUpload();
      db.uploadCaps.bytes = 15; // big.bin holds 10 of them
      await user.upload(input, [otherFile()]);
      const other = uploadRow('other.bin');
      expect(await within(other).findByText('Failed')).toBeInTheDocument();
      expect(within(other).getByRole('alert')).toHaveTextContent(
        /^Your uploads in progress add up to more than you may upload at once\. Finish or cancel one first\.$/,
      );
      expect(within(other).queryByText('Too large')).not.toBeInTheDocument();
      expect(screen.queryByText(/too large/i)).not.toBeInTheDocument();
      expect(within(other).getByRole('button', { name: 'Retry upload of other.bin' })).toBeInTheDocument();
    });
  });

  it('Discard ends the server’s upload, then removes the item', async () => {
    const { user, me, seen, row } = await interruptedUpload();
    await user.click(within(row).getByRole('button', { name: 'Discard upload of big.bin' }));
    await waitFor(() => expect(screen.queryByRole('listitem', { name: 'big.bin' })).not.toBeInTheDocument());
    expect(seen.filter((s) => s.startsWith('DELETE'))).toEqual(['DELETE /api/files/uploads/up-1']);
    expect(db.multipart.size).toBe(0);
    expect(loadPendingUploads(me.id)).toEqual([]);
    expect(screen.getByText('Discarded the upload of big.bin')).toBeInTheDocument();
  });

  it('keeps the item for another try when Discard cannot reach the server', async () => {
    const { user, me, row } = await interruptedUpload();
    server.use(http.delete('/api/files/uploads/:id', () => HttpResponse.error()));
    await user.click(within(row).getByRole('button', { name: 'Discard upload of big.bin' }));
    expect(await within(row).findByText(/^Could not discard the upload: /)).toBeInTheDocument();
    expect(within(row).getByRole('button', { name: 'Resume upload of big.bin' })).toBeEnabled();
    expect(db.multipart.has('up-1')).toBe(true);
    expect(loadPendingUploads(me.id).map((e) => e.upload_id)).toEqual(['up-1']);
  });

  it('a failed completion (5xx) keeps the upload; Resume completes it without sending any part again', async () => {
    const r = await renderResumable();
    let completes = 0;
    server.use(
      http.post('/api/files/uploads/:id/complete', () => {
        completes += 1;
        if (completes === 1) return HttpResponse.json({ detail: 'database unavailable', error_code: 'INTERNAL' }, { status: 503 });
        return undefined;
      }),
    );
    const seen = recordRequests();
    await r.user.upload(r.input, [bigFile()]);
    const row = uploadRow('big.bin');
    expect(await within(row).findByText('Interrupted at 100%')).toBeInTheDocument();
    expect(seen.some((s) => s.startsWith('DELETE'))).toBe(false);

    await r.user.click(within(row).getByRole('button', { name: 'Resume upload of big.bin' }));
    expect(await within(row).findByText('Uploaded')).toBeInTheDocument();
    expect(seen.filter((s) => s.startsWith('PUT'))).toHaveLength(3);
    expect(completes).toBe(2);
    expect(db.files).toHaveLength(1);
  });

  it('a completion that succeeded although its answer was lost (503): Resume finds the file and sends nothing again', async () => {
    const onUploaded = vi.fn();
    const r = await renderResumable(onUploaded);
    // The server does the work, the client gets a 503 (e.g. the gateway's
    // time limit ran out first).
    server.use(
      http.post('/api/files/uploads/:id/complete', ({ params }) => {
        completeUpload(String(params.id));
        return HttpResponse.json({ detail: 'Service Unavailable', error_code: 'INTERNAL' }, { status: 503 });
      }),
    );
    const seen = recordRequests();
    await r.user.upload(r.input, [bigFile()]);
    const row = uploadRow('big.bin');
    expect(await within(row).findByText('Interrupted at 100%')).toBeInTheDocument();
    expect(db.files).toHaveLength(1);
    expect(loadPendingUploads(r.me.id).map((e) => e.upload_id)).toEqual(['up-1']);
    expect(onUploaded).not.toHaveBeenCalled();
    const invalidate = vi.spyOn(r.queryClient, 'invalidateQueries');

    const before = seen.length;
    await r.user.click(within(row).getByRole('button', { name: 'Resume upload of big.bin' }));
    expect(await within(row).findByText('Uploaded')).toBeInTheDocument();

    expect(seen.slice(before)).toEqual(['GET /api/files/uploads/up-1']);
    expect(db.files).toHaveLength(1);
    expect(new TextDecoder().decode(db.files[0].content)).toBe(CONTENT);
    expect(loadPendingUploads(r.me.id)).toEqual([]);
    expect(within(row).getByRole('progressbar', { name: 'Upload progress for big.bin' })).toHaveAttribute('aria-valuenow', '100');
    expect(within(row).queryByRole('alert')).not.toBeInTheDocument();
    expect(screen.getByText('Uploaded big.bin')).toBeInTheDocument();
    // The file list is refreshed as after any upload.
    expect(invalidate).toHaveBeenCalledWith({ queryKey: ['files'] });
    expect(onUploaded).toHaveBeenCalledTimes(1);
  });

  it('going offline interrupts the upload without ending it on the server', async () => {
    const { user, input } = await renderResumable();
    server.use(
      http.put(`${STORAGE_ORIGIN}/hot/:id`, async () => {
        await delay('infinite');
        return undefined;
      }),
    );
    const seen = recordRequests();
    await user.upload(input, [bigFile()]);
    const row = uploadRow('big.bin');
    await within(row).findByText('0% (multipart)');
    window.dispatchEvent(new Event('offline'));
    expect(await within(row).findByText('Interrupted at 0%')).toBeInTheDocument();
    expect(within(row).getByRole('alert')).toHaveTextContent(/^You are offline\./);
    expect(within(row).getByRole('button', { name: 'Resume upload of big.bin' })).toBeInTheDocument();
    expect(seen.some((s) => s.startsWith('DELETE'))).toBe(false);
    expect(db.multipart.has('up-1')).toBe(true);
  });

  describe('after a reload', () => {
    // What an earlier page load left: the server's upload with parts 1 and 2
    // stored, and its entry in localStorage.
    function leftByEarlierPage(userId: number, p: { expiresAt?: string } = {}) {
      const id = addUpload(userId, 'big.bin', new TextEncoder().encode(CONTENT), { partSize: 4, done: [1, 2] });
      savePendingUpload(userId, {
        upload_id: id,
        filename: 'big.bin',
        size: 10,
        last_modified: LAST_MODIFIED,
        part_size: 4,
        expires_at: p.expiresAt ?? db.multipart.get(id)!.expires_at,
      });
      return id;
    }

    async function renderAfterReload(p: { expiresAt?: string; raw?: string } = {}) {
      db.config.multipart_threshold_bytes = 4;
      const me = createUser();
      const id = leftByEarlierPage(me.id, p);
      if (p.raw !== undefined) window.localStorage.setItem(`hybrid-storage.pending-uploads.${me.id}`, p.raw);
      logIn(me);
      const seen = recordRequests();
      const r = renderWithProviders(<FileUpload userId={me.id} />);
      await screen.findByText(/^Up to .* per file$/);
      return { ...r, me, id, seen, input: screen.getByLabelText('Choose files to upload') as HTMLInputElement };
    }

    it('resumes the earlier upload when the same file is picked again', async () => {
      const { user, input, me, id, seen } = await renderAfterReload();
      await user.upload(input, [bigFile()]);
      expect(await within(uploadRow('big.bin')).findByText('Uploaded')).toBeInTheDocument();

      expect(seen.filter((s) => s.startsWith('PUT') || s.includes('/api/files/'))).toEqual([
        `GET /api/files/uploads/${id}`,
        `PUT ${id}#3`,
        `POST /api/files/uploads/${id}/complete`,
      ]);
      expect(new TextDecoder().decode(db.files[0].content)).toBe(CONTENT);
      expect(loadPendingUploads(me.id)).toEqual([]);
    });

    it('finishes without sending anything when the earlier upload was completed (its answer lost)', async () => {
      const { user, input, me, id, seen } = await renderAfterReload();
      db.multipart.get(id)!.parts.set(3, new TextEncoder().encode(CONTENT.slice(8)));
      completeUpload(id);

      await user.upload(input, [bigFile()]);
      const row = uploadRow('big.bin');
      expect(await within(row).findByText('Uploaded')).toBeInTheDocument();

      expect(seen.filter((s) => s.startsWith('PUT') || s.includes('/api/files/'))).toEqual([`GET /api/files/uploads/${id}`]);
      expect(db.files).toHaveLength(1);
      expect(new TextDecoder().decode(db.files[0].content)).toBe(CONTENT);
      expect(loadPendingUploads(me.id)).toEqual([]);
      expect(screen.getByText('Uploaded big.bin')).toBeInTheDocument();
    });

    it('resumes a dropped file just the same, and shows the stored bytes while the rest goes', async () => {
      const { me, id, seen } = await renderAfterReload();
      server.use(
        http.put(`${STORAGE_ORIGIN}/hot/:id`, async () => {
          await delay('infinite');
          return undefined;
        }),
      );
      const file = bigFile();
      fireEvent.drop(screen.getByTestId('dropzone'), {
        dataTransfer: { files: [file], items: [{ kind: 'file', type: file.type, getAsFile: () => file }], types: ['Files'] },
      });
      const row = await screen.findByRole('listitem', { name: 'big.bin' });
      expect(await within(row).findByText('80% (multipart)')).toBeInTheDocument();
      expect(within(row).getByRole('progressbar', { name: 'Upload progress for big.bin' })).toHaveAttribute('aria-valuenow', '80');
      await waitFor(() => expect(seen).toContain(`PUT ${id}#3`));
      expect(seen).not.toContain('POST /api/files/uploads');
      expect(loadPendingUploads(me.id).map((e) => e.upload_id)).toEqual([id]);
    });

    it('starts afresh for a file that only shares the name', async () => {
      const { user, input, me, id, seen } = await renderAfterReload();
      await user.upload(input, [bigFile(LAST_MODIFIED + 1)]);
      expect(await within(uploadRow('big.bin')).findByText('Uploaded')).toBeInTheDocument();
      expect(seen).toContain('POST /api/files/uploads');
      expect(seen).not.toContain(`GET /api/files/uploads/${id}`);
      // The other file's entry stays for that file.
      expect(loadPendingUploads(me.id).map((e) => e.upload_id)).toEqual([id]);
    });

    it.each([
      ['an expired entry', { expiresAt: '2020-01-01T00:00:00Z' }],
      ['corrupt JSON', { raw: '{"upload_id": "up-1", oops' }],
      ['an entry of the wrong shape', { raw: JSON.stringify([{ upload_id: 42, filename: 'big.bin' }]) }],
    ])('ignores %s and uploads afresh', async (_, p) => {
      const { user, input, seen } = await renderAfterReload(p);
      await user.upload(input, [bigFile()]);
      expect(await within(uploadRow('big.bin')).findByText('Uploaded')).toBeInTheDocument();
      expect(seen).toContain('POST /api/files/uploads');
      expect(seen.some((s) => s.startsWith('GET /api/files/uploads/'))).toBe(false);
      expect(new TextDecoder().decode(db.files[0].content)).toBe(CONTENT);
    });

    it('Cancel on a resumed upload ends it on the server and forgets it', async () => {
      const { user, input, me, id, seen } = await renderAfterReload();
      server.use(
        http.put(`${STORAGE_ORIGIN}/hot/:id`, async () => {
          await delay('infinite');
          return undefined;
        }),
      );
      await user.upload(input, [bigFile()]);
      const row = uploadRow('big.bin');
      await within(row).findByText('80% (multipart)');
      await user.click(within(row).getByRole('button', { name: 'Cancel upload of big.bin' }));
      expect(within(row).getByText('Cancelled')).toBeInTheDocument();
      await waitFor(() => expect(seen).toContain(`DELETE /api/files/uploads/${id}`));
      await waitFor(() => expect(loadPendingUploads(me.id)).toEqual([]));
      expect(db.multipart.size).toBe(0);
      expect(screen.queryByText(/interrupted|failed/)).not.toBeInTheDocument();
    });

    it('leaving the page keeps the server’s upload and its entry for later', async () => {
      const { user, input, me, id, seen, unmount } = await renderAfterReload();
      server.use(
        http.put(`${STORAGE_ORIGIN}/hot/:id`, async () => {
          await delay('infinite');
          return undefined;
        }),
      );
      await user.upload(input, [bigFile()]);
      await within(uploadRow('big.bin')).findByText('80% (multipart)');
      unmount();
      await delay(50);
      expect(seen.some((s) => s.startsWith('DELETE'))).toBe(false);
      expect(db.multipart.has(id)).toBe(true);
      expect(loadPendingUploads(me.id).map((e) => e.upload_id)).toEqual([id]);
    });

    describe('an upload the server is finishing', () => {
      const saved = { ...finishPolling };
      afterEach(() => {
        Object.assign(finishPolling, saved);
      });
      // The earlier page sent every part and asked to complete: the server
      // is finishing the upload ("completing") until finish() is called.
      async function finishingAfterReload(then: 'completed' | 'gone' = 'completed') {
        finishPolling.secondMs = 5;
        const r = await renderAfterReload();
        db.multipart.get(r.id)!.parts.set(3, new TextEncoder().encode(CONTENT.slice(8)));
        db.completing.set(r.id, { polls: Infinity, then });
        const finish = () => {
          db.completing.get(r.id)!.polls = 0;
        };
        return { ...r, finish };
      }

      it('shows "Finishing upload…" while GET answers completing, then the file', async () => {
        const { user, input, me, id, seen, finish } = await finishingAfterReload();
        await user.upload(input, [bigFile()]);
        const row = uploadRow('big.bin');
        expect(await within(row).findByText('Finishing upload…')).toBeInTheDocument();
        expect(within(row).getByRole('progressbar', { name: 'Upload progress for big.bin' })).toHaveAttribute('aria-valuenow', '100');
        expect(within(row).getByRole('button', { name: 'Cancel upload of big.bin' })).toBeInTheDocument();

        finish();
        expect(await within(row).findByText('Uploaded')).toBeInTheDocument();
        expect(screen.getByText('Uploaded big.bin')).toBeInTheDocument();
        expect(seen.filter((s) => s.startsWith('PUT') || s.startsWith('POST'))).toEqual([]);
        expect(count(seen, `GET /api/files/uploads/${id}`)).toBeGreaterThanOrEqual(2);
        expect(db.files).toHaveLength(1);
        expect(new TextDecoder().decode(db.files[0].content)).toBe(CONTENT);
        expect(loadPendingUploads(me.id)).toEqual([]);
      });

      it('gives up after the polling limit with a clear message, keeps the upload, and a later Resume gets the file', async () => {
        const { user, input, me, id, finish } = await finishingAfterReload();
        finishPolling.timeoutMs = 50;
        await user.upload(input, [bigFile()]);
        const row = uploadRow('big.bin');
        expect(await within(row).findByText('Interrupted at 100%')).toBeInTheDocument();
        expect(within(row).getByRole('alert')).toHaveTextContent(
          'The server is still finishing this upload. Resume in a minute to get the file; the upload is kept.',
        );
        expect(loadPendingUploads(me.id).map((e) => e.upload_id)).toEqual([id]);
        expect(db.multipart.has(id)).toBe(true);

        finish();
        await user.click(within(row).getByRole('button', { name: 'Resume upload of big.bin' }));
        expect(await within(row).findByText('Uploaded')).toBeInTheDocument();
        expect(db.files).toHaveLength(1);
        expect(loadPendingUploads(me.id)).toEqual([]);
      });

      it('an upload gone while the server finished it (404) says so and offers Retry, which sends the file again', async () => {
        const { user, input, me, id, seen, finish } = await finishingAfterReload('gone');
        await user.upload(input, [bigFile()]);
        const row = uploadRow('big.bin');
        await within(row).findByText('Finishing upload…');
        finish();
        expect(await within(row).findByText('Failed')).toBeInTheDocument();
        expect(within(row).getByRole('alert')).toHaveTextContent(
          'This upload is no longer on the server: it expired or was discarded, or the server refused the finished file. Retry to upload the file again.',
        );
        expect(loadPendingUploads(me.id)).toEqual([]);
        expect(seen).not.toContain('POST /api/files/uploads');

        await user.click(within(row).getByRole('button', { name: 'Retry upload of big.bin' }));
        expect(await within(row).findByText('Uploaded')).toBeInTheDocument();
        expect(count(seen, 'POST /api/files/uploads')).toBe(1);
        expect(count(seen, `GET /api/files/uploads/${id}`)).toBeGreaterThanOrEqual(2);
        expect(new TextDecoder().decode(db.files[0].content)).toBe(CONTENT);
      });
    });
  });

  it('a completion answered 409 UPLOAD_COMPLETING shows "Finishing upload…" and ends with the file', async () => {
    finishPolling.secondMs = 5;
    try {
      const onUploaded = vi.fn();
      const r = await renderResumable(onUploaded);
      db.completing.set('up-1', { polls: Infinity, then: 'completed' });
      const seen = recordRequests();
      await r.user.upload(r.input, [bigFile()]);
      const row = uploadRow('big.bin');
      expect(await within(row).findByText('Finishing upload…')).toBeInTheDocument();
      expect(seen).toContain('POST /api/files/uploads/up-1/complete');

      db.completing.get('up-1')!.polls = 0;
      expect(await within(row).findByText('Uploaded')).toBeInTheDocument();
      expect(within(row).queryByRole('alert')).not.toBeInTheDocument();
      expect(count(seen, 'POST /api/files/uploads/up-1/complete')).toBe(1);
      expect(db.files).toHaveLength(1);
      expect(loadPendingUploads(r.me.id)).toEqual([]);
      expect(onUploaded).toHaveBeenCalledTimes(1);
    } finally {
      finishPolling.secondMs = 1000;
    }
  });
});
