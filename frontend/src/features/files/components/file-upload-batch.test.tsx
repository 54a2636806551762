import { delay, http, HttpResponse } from 'msw';
import { waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import { FileUpload, MAX_PARALLEL_UPLOADS } from '@/features/files/components/file-upload';
import { loadUnsentUploads } from '@/features/files/utils/pending-uploads';
import { formatBytes } from '@/lib/format';
import { db } from '@/testing/mock-db';
import { server } from '@/testing/server';
import { logIn, renderWithProviders, screen } from '@/testing/test-utils';

// Many files at once (a dropped or chosen folder): a bounded number of
// uploads in flight, one summary for the batch, a bounded list, 429s waited
// out, failures counted and retried together.

const files = (n: number, prefix = 'f') =>
  Array.from({ length: n }, (_, i) => new File([`content of file ${i}`.padEnd(100 + i, '.')], `${prefix}-${i}.txt`, { type: 'text/plain' }));

// remember: as the dashboard renders it, remembering unfinished uploads.
async function renderUpload({ remember = false } = {}) {
  const me = logIn();
  const r = renderWithProviders(<FileUpload userId={remember ? me.id : undefined} />);
  await screen.findByText(/^Up to .* per file$/);
  return { ...r, me, input: screen.getByLabelText('Choose files to upload') as HTMLInputElement };
}

// Counts the streamed uploads the server is reading at once.
function countInFlight(handle?: (name: string, attempt: number) => Response | undefined) {
  const c = { inFlight: 0, max: 0, attempts: new Map<string, number>() };
  server.use(
    http.post('/api/files/upload', async ({ request }) => {
      const name = ((await request.clone().formData()).get('file') as File).name;
      const attempt = (c.attempts.get(name) ?? 0) + 1;
      c.attempts.set(name, attempt);
      c.inFlight += 1;
      c.max = Math.max(c.max, c.inFlight);
      try {
        await delay(5);
        return handle?.(name, attempt);
      } finally {
        c.inFlight -= 1;
      }
    }),
  );
  return c;
}

function batchRegion() {
  return screen.getByRole('region', { name: 'Batch progress' });
}

describe('FileUpload: a batch of many files', () => {
  it(`sends 60 files at most ${MAX_PARALLEL_UPLOADS} at a time, shows one summary, a bounded list and one toast`, async () => {
    const c = countInFlight();
    const { user, input } = await renderUpload();
    const batch = files(60);
    await user.upload(input, batch);

    expect(await within(batchRegion()).findByText('All 60 files uploaded', {}, { timeout: 20_000 })).toBeInTheDocument();
    expect(db.files).toHaveLength(60);
    expect(c.max).toBeLessThanOrEqual(MAX_PARALLEL_UPLOADS);
    expect(c.max).toBeGreaterThan(1);
    const bytes = formatBytes(batch.reduce((n, f) => n + f.size, 0));
    expect(within(batchRegion()).getByText(`${bytes} of ${bytes}`)).toBeInTheDocument();
    expect(within(batchRegion()).getByRole('progressbar', { name: 'Progress of all uploads' })).toHaveAttribute('aria-valuenow', '100');
    // Twenty rows, the newest first, and a word on the rest.
    const rows = within(screen.getByRole('list', { name: 'Uploads' })).getAllByRole('listitem');
    expect(rows).toHaveLength(20);
    expect(rows[0]).toHaveAccessibleName('f-59.txt');
    expect(screen.getByText(/^Showing 20 of 60 uploads/)).toBeInTheDocument();
    // One toast for the batch, none per file.
    expect(await screen.findByText('Uploaded 60 files')).toBeInTheDocument();
    expect(screen.queryByText('Uploaded f-0.txt')).not.toBeInTheDocument();
  });

  it('counts the batch while it goes: files and bytes done, uploading, waiting', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let served = 0;
    server.use(
      http.post('/api/files/upload', async () => {
        // The first two go through at once; the rest wait for the gate.
        if (++served > 2) await gate;
        return undefined;
      }),
    );
    const { user, input } = await renderUpload();
    const batch = files(10);
    await user.upload(input, batch);
    const region = batchRegion();
    expect(await within(region).findByText('2 of 10 files uploaded')).toBeInTheDocument();
    expect(within(region).getByText(`${MAX_PARALLEL_UPLOADS} uploading · ${10 - 2 - MAX_PARALLEL_UPLOADS} waiting`)).toBeInTheDocument();
    const all = batch.reduce((n, f) => n + f.size, 0);
    const done = batch[0].size + batch[1].size;
    // Bytes: the two done files, and whatever the ones under way reported.
    const bar = within(region).getByRole('progressbar', { name: 'Progress of all uploads' });
    expect(Number(bar.getAttribute('aria-valuenow'))).toBeGreaterThanOrEqual(Math.floor((done / all) * 100));
    release();
    expect(await within(region).findByText('All 10 files uploaded')).toBeInTheDocument();
  });

  it('waits out 429 TOO_MANY_STREAMED_UPLOADS and sends the file again: none is dropped', async () => {
    const c = countInFlight((name, attempt) =>
      name === 'f-1.txt' && attempt <= 2
        ? HttpResponse.json(
            { detail: 'you have as many uploads under way as one account may send at once; retry when one ends', error_code: 'TOO_MANY_STREAMED_UPLOADS' },
            { status: 429, headers: { 'Retry-After': '1' } },
          )
        : undefined,
    );
    const { user, input } = await renderUpload();
    await user.upload(input, files(8));
    // While it waits, the file says why.
    expect(await within(screen.getByRole('listitem', { name: 'f-1.txt' })).findByText(/the server is busy; trying again shortly/)).toBeInTheDocument();
    expect(await within(batchRegion()).findByText('All 8 files uploaded', {}, { timeout: 15_000 })).toBeInTheDocument();
    expect(c.attempts.get('f-1.txt')).toBe(3);
    expect(db.files.map((f) => f.original_filename).sort()).toEqual(files(8).map((f) => f.name).sort());
    expect(screen.queryByText(/failed/)).not.toBeInTheDocument();
  }, 20_000);

  it('reports failures in the summary, and Retry sends them all again', async () => {
    let failing = true;
    countInFlight((name) =>
      failing && (name === 'f-2.txt' || name === 'f-5.txt') ? HttpResponse.json({ detail: 'storage is down', error_code: 'INTERNAL' }, { status: 500 }) : undefined,
    );
    const { user, input } = await renderUpload();
    await user.upload(input, files(8));
    const region = batchRegion();
    expect(await within(region).findByText('6 of 8 files uploaded')).toBeInTheDocument();
    expect(await within(region).findByText('2 failed')).toBeInTheDocument();
    expect(within(screen.getByRole('listitem', { name: 'f-2.txt' })).getByText('Failed')).toBeInTheDocument();
    expect(await screen.findByText('Uploaded 6 of 8 files; 2 failed')).toBeInTheDocument();

    failing = false;
    await user.click(within(region).getByRole('button', { name: 'Retry 2 failed' }));
    // The retried files are a batch of their own.
    await waitFor(() => expect(db.files).toHaveLength(8));
    expect(await within(screen.getByRole('listitem', { name: 'f-5.txt' })).findByText('Uploaded')).toBeInTheDocument();
  });

  it('uploads the files of a chosen folder into its tree, made once, a few at a time', async () => {
    const c = countInFlight();
    const { user } = await renderUpload();
    const folder = files(30, 'photo').map((f, i) => {
      Object.defineProperty(f, 'webkitRelativePath', { value: `holiday/${i % 2 ? 'day1' : 'day2'}/${f.name}` });
      return f;
    });
    const input = screen.getByLabelText('Choose a folder to upload') as HTMLInputElement;
    expect(input).toHaveAttribute('webkitdirectory');
    await user.upload(input, folder);
    expect(await within(batchRegion()).findByText('All 30 files uploaded', {}, { timeout: 10_000 })).toBeInTheDocument();
    expect(db.files.map((f) => f.original_filename).sort()).toEqual(folder.map((f) => f.name).sort());
    expect(c.max).toBeLessThanOrEqual(MAX_PARALLEL_UPLOADS);
    // holiday at the root, day1 and day2 in it: three folders, three requests.
    const holiday = db.folders.find((f) => f.name === 'holiday' && f.parent_id === null)!;
    const day = (name: string) => db.folders.find((f) => f.name === name && f.parent_id === holiday.id)!.id;
    expect(db.folderPosts.map((p) => p.status)).toEqual([201, 201, 201]);
    for (const f of db.files) {
      const i = Number(/-(\d+)\.txt$/.exec(f.original_filename)![1]);
      expect(f.folder_id).toBe(day(i % 2 ? 'day1' : 'day2'));
    }
  });

  it('keeps every queued file when the page goes away, beyond what storage lists, and sends them all on return', async () => {
    let hang = true;
    server.use(
      http.post('/api/files/upload', async () => {
        if (hang) await delay('infinite');
        return undefined;
      }),
    );
    const { user, input, me, unmount } = await renderUpload({ remember: true });
    await user.upload(input, files(70));
    await waitFor(() => expect(screen.getAllByText(/^\d+%$/)).toHaveLength(MAX_PARALLEL_UPLOADS));
    // Storage lists the newest 50; the page holds them all.
    expect(loadUnsentUploads(me.id).length).toBe(50);
    unmount();

    hang = false;
    // Back on the page (after a login, say).
    const again = renderWithProviders(<FileUpload userId={me.id} />);
    expect(await again.findByText('Resuming 70 unfinished uploads')).toBeInTheDocument();
    expect(await within(screen.getByRole('region', { name: 'Batch progress' })).findByText('All 70 files uploaded', {}, { timeout: 20_000 })).toBeInTheDocument();
    expect(db.files).toHaveLength(70);
    expect(loadUnsentUploads(me.id)).toEqual([]);
  }, 30_000);
});
