import { describe, expect, it } from 'vitest';
import { HttpResponse } from 'msw';
import { waitFor, within } from '@testing-library/react';

import { uploadFile } from '@/features/files/api/upload-file';
import { FileUpload } from '@/features/files/components/file-upload';
import { loadUnsentUploads, savePendingUpload } from '@/features/files/utils/pending-uploads';
import { db, addFolder, createUser, trashFolder } from '@/testing/mock-db';
import { holdGet } from '@/testing/hold';
import { server } from '@/testing/server';
import { logIn, renderWithProviders, screen } from '@/testing/test-utils';

function textFile(name: string, content: string) {
  return new File([content], name, { type: 'text/plain' });
}

async function renderUpload(folderId: number | null, folderName?: string) {
  const r = renderWithProviders(<FileUpload folderId={folderId} folderName={folderName} />);
  await screen.findByText(/^Up to .* per file$/);
  return { ...r, input: screen.getByLabelText('Choose files to upload') as HTMLInputElement };
}

const uploadRow = (name: string) => screen.getByRole('listitem', { name });

describe('FileUpload into a folder', () => {
  it('sends folder_id before the file in the streamed upload, and the file lands in the folder', async () => {
    const owner = logIn(createUser());
    const projects = addFolder(owner.id, 'Projects');
    const { user, input } = await renderUpload(projects.id, 'Projects');
    expect(screen.getByText('Files go into').parentElement).toHaveTextContent('Files go into Projects');
    await user.upload(input, textFile('plan.txt', 'the plan'));
    expect(await within(uploadRow('plan.txt')).findByText('Uploaded')).toBeInTheDocument();
    expect(db.uploadFields).toEqual([['folder_id', 'file']]);
    expect(db.files.map((f) => [f.original_filename, f.folder_id])).toEqual([['plan.txt', projects.id]]);
  });

  it('at the root sends no folder_id', async () => {
    logIn(createUser());
    const { user, input } = await renderUpload(null);
    expect(screen.getByText('Files go into').parentElement).toHaveTextContent('Files go into My files');
    await user.upload(input, textFile('top.txt', 'top'));
    expect(await within(uploadRow('top.txt')).findByText('Uploaded')).toBeInTheDocument();
    expect(db.uploadFields).toEqual([['file']]);
    expect(db.files[0].folder_id).toBeNull();
  });

  it('uploadFile appends folder_id first: the server reads it before the file’s bytes', async () => {
    const owner = logIn(createUser());
    const f = addFolder(owner.id, 'F');
    await uploadFile(textFile('x.txt', 'x'), { folderId: f.id });
    expect(db.uploadFields).toEqual([['folder_id', 'file']]);
  });

  it('names the folder when it creates a multipart upload', async () => {
    db.config.multipart_threshold_bytes = 4;
    const owner = logIn(createUser());
    const projects = addFolder(owner.id, 'Projects');
    const created: unknown[] = [];
    server.events.on('request:start', async ({ request }) => {
      if (request.method === 'POST' && new URL(request.url).pathname === '/api/files/uploads') created.push(await request.clone().json());
    });
    const { user, input } = await renderUpload(projects.id, 'Projects');
    await user.upload(input, textFile('big.log', '0123456789'));
    expect(await within(uploadRow('big.log')).findByText('Uploaded')).toBeInTheDocument();
    expect(created).toEqual([{ filename: 'big.log', size: 10, content_type: 'text/plain', folder_id: projects.id }]);
    expect(db.files[0].folder_id).toBe(projects.id);
    server.events.removeAllListeners();
  });

  it('a file whose folder was deleted meanwhile (404 FOLDER_NOT_FOUND) goes to the root instead, and says so', async () => {
    const owner = logIn(createUser());
    const gone = addFolder(owner.id, 'Gone');
    const { user, input } = await renderUpload(gone.id, 'Gone');
    trashFolder(gone.id);
    await user.upload(input, textFile('kept.txt', 'not lost'));
    expect(await within(uploadRow('kept.txt')).findByText('Uploaded')).toBeInTheDocument();
    expect(await screen.findByText('The folder kept.txt was picked in is gone: uploading it to My files instead.')).toBeInTheDocument();
    expect(db.uploadFields).toEqual([['folder_id', 'file'], ['file']]);
    expect(db.files.map((f) => [f.original_filename, f.folder_id, new TextDecoder().decode(f.content)])).toEqual([['kept.txt', null, 'not lost']]);
  });

  it('the same for a multipart upload refused at its creation', async () => {
    db.config.multipart_threshold_bytes = 4;
    const owner = logIn(createUser());
    const gone = addFolder(owner.id, 'Gone');
    const { user, input } = await renderUpload(gone.id, 'Gone');
    trashFolder(gone.id);
    await user.upload(input, textFile('big.bin', '0123456789'));
    expect(await within(uploadRow('big.bin')).findByText('Uploaded')).toBeInTheDocument();
    expect(screen.getByText('The folder big.bin was picked in is gone: uploading it to My files instead.')).toBeInTheDocument();
    expect(db.files.map((f) => [f.original_filename, f.folder_id])).toEqual([['big.bin', null]]);
  });

  it('after a reload, a multipart upload of a folder picked again in another folder stays in its own (a fresh start too)', async () => {
    db.config.multipart_threshold_bytes = 4;
    const owner = logIn(createUser());
    const projects = addFolder(owner.id, 'Projects');
    const file = new File(['0123456789'], 'big.bin', { lastModified: 1_700_000_000_000 });
    // Left by an earlier page: an entry whose server upload has expired since.
    savePendingUpload(owner.id, {
      upload_id: 'up-expired',
      filename: 'big.bin',
      size: 10,
      last_modified: 1_700_000_000_000,
      part_size: 4,
      expires_at: new Date(Date.now() + 3600_000).toISOString(),
      folder_id: projects.id,
    });
    const created: unknown[] = [];
    server.events.on('request:start', async ({ request }) => {
      if (request.method === 'POST' && new URL(request.url).pathname === '/api/files/uploads') created.push(await request.clone().json());
    });
    const { user } = renderWithProviders(<FileUpload userId={owner.id} folderId={null} />);
    await screen.findByText(/^Up to .* per file$/);
    await user.upload(screen.getByLabelText('Choose files to upload') as HTMLInputElement, file);
    expect(await within(uploadRow('big.bin')).findByText('Uploaded')).toBeInTheDocument();
    expect(created).toEqual([{ filename: 'big.bin', size: 10, content_type: 'application/octet-stream', folder_id: projects.id }]);
    expect(db.files.map((f) => f.folder_id)).toEqual([projects.id]);
    server.events.removeAllListeners();
  });

  it('remembers the folder of a file not sent yet', async () => {
    const owner = logIn(createUser());
    const projects = addFolder(owner.id, 'Projects');
    const held = holdGet('/api/config', () => HttpResponse.json(db.config));
    const { user } = renderWithProviders(<FileUpload userId={owner.id} folderId={projects.id} folderName="Projects" />);
    await user.upload(screen.getByLabelText('Choose files to upload') as HTMLInputElement, textFile('later.txt', 'later'));
    expect(loadUnsentUploads(owner.id).map((e) => [e.filename, e.folder_id])).toEqual([['later.txt', projects.id]]);
    await held.arrived;
    held.release();
    expect(await within(uploadRow('later.txt')).findByText('Uploaded')).toBeInTheDocument();
    expect(loadUnsentUploads(owner.id)).toEqual([]);
  });

  it('a file picked goes to the folder open when it was picked, even if it waits and another folder opens meanwhile', async () => {
    const owner = logIn(createUser());
    const first = addFolder(owner.id, 'First');
    const second = addFolder(owner.id, 'Second');
    // The limits are not known yet: the picked file waits as "checking".
    const held = holdGet('/api/config', () => HttpResponse.json(db.config));
    const { user, rerender } = renderWithProviders(<FileUpload folderId={first.id} folderName="First" />);
    await user.upload(screen.getByLabelText('Choose files to upload') as HTMLInputElement, textFile('early.txt', 'early'));
    expect(within(uploadRow('early.txt')).getByText('Waiting for the upload limits')).toBeInTheDocument();
    rerender(<FileUpload folderId={second.id} folderName="Second" />);
    await held.arrived;
    held.release();
    expect(await within(uploadRow('early.txt')).findByText('Uploaded')).toBeInTheDocument();
    await waitFor(() => expect(db.files.map((f) => f.folder_id)).toEqual([first.id]));
  });
});
