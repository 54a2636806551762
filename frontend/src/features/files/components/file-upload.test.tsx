import { describe, expect, it, vi } from 'vitest';
import { delay, http, HttpResponse } from 'msw';
import { fireEvent, waitFor, within } from '@testing-library/react';

import { FileUpload } from '@/features/files/components/file-upload';
import { db } from '@/testing/mock-db';
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
  it('uploads several files at once, each with its own progress bar and a toast', async () => {
    const { user, input } = await renderUpload();
    await user.upload(input, [textFile('a.txt', 'alpha'), textFile('b.txt', 'bravo!')]);

    await waitFor(() => expect(within(uploadRow('a.txt')).getByText('Uploaded')).toBeInTheDocument());
    await waitFor(() => expect(within(uploadRow('b.txt')).getByText('Uploaded')).toBeInTheDocument());
    expect(within(uploadRow('a.txt')).getByRole('progressbar', { name: 'Upload progress for a.txt' })).toHaveAttribute(
      'aria-valuenow',
      '100',
    );
    expect(screen.getByText('Uploaded a.txt')).toBeInTheDocument();
    expect(screen.getByText('Uploaded b.txt')).toBeInTheDocument();
    expect(db.files.map((f) => [f.original_filename, new TextDecoder().decode(f.content)]).sort()).toEqual([
      ['a.txt', 'alpha'],
      ['b.txt', 'bravo!'],
    ]);
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
    expect(within(row).getByText('File is 10 B; the limit is 8 B.')).toBeInTheDocument();
    expect(screen.getByText('big.txt is too large (limit 8 B)')).toBeInTheDocument();
    expect(within(row).queryByRole('button', { name: /Retry/ })).not.toBeInTheDocument();
    expect(posts).toBe(0);
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

  it('uploads at most three files at a time; the rest wait and can be cancelled before they start', async () => {
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
    const names = ['1.txt', '2.txt', '3.txt', '4.txt', '5.txt'];
    await user.upload(input, names.map((n) => textFile(n, `content ${n}`)));

    await waitFor(() => expect(started).toHaveLength(3));
    expect(within(uploadRow('4.txt')).getByText('Waiting')).toBeInTheDocument();
    expect(within(uploadRow('5.txt')).getByText('Waiting')).toBeInTheDocument();
    await user.click(within(uploadRow('5.txt')).getByRole('button', { name: 'Cancel upload of 5.txt' }));
    expect(within(uploadRow('5.txt')).getByText('Cancelled')).toBeInTheDocument();

    release();
    for (const n of ['1.txt', '2.txt', '3.txt', '4.txt']) {
      expect(await within(uploadRow(n)).findByText('Uploaded')).toBeInTheDocument();
    }
    expect(maxInFlight).toBe(3);
    expect([...started].sort()).toEqual(['1.txt', '2.txt', '3.txt', '4.txt']);
    expect(db.files).toHaveLength(4);
  });
});
