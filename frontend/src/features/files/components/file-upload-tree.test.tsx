import { delay, http, HttpResponse } from 'msw';
import { fireEvent, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import { FileUpload } from '@/features/files/components/file-upload';
import { loadUnsentUploads } from '@/features/files/utils/pending-uploads';
import { addFolder, createUser, db } from '@/testing/mock-db';
import { holdGet } from '@/testing/hold';
import { server } from '@/testing/server';
import { logIn, renderApp, renderWithProviders, screen } from '@/testing/test-utils';

// A dropped or chosen folder recreates its tree below the folder open: the
// folders of each file's relative path are made once, parents first, an
// existing one of the same name is used, and a file whose folder cannot be
// made goes into the nearest one that exists.

// A chosen folder's files: each with its webkitRelativePath, as the folder
// picker gives them.
function folderFiles(paths: string[]) {
  return paths.map((p) => {
    const f = new File([`content of ${p}`], p.split('/').at(-1)!, { type: 'text/plain' });
    Object.defineProperty(f, 'webkitRelativePath', { value: p });
    return f;
  });
}

const ALBUM = ['album/cover.txt', 'album/day-1/a.txt', 'album/day-1/b.txt', 'album/day-2/c.txt', 'album/day-2/d.txt', 'album/day-2/night/e.txt'];

async function renderUpload(folderId: number | null, folderName?: string, userId?: number) {
  const r = renderWithProviders(<FileUpload folderId={folderId} folderName={folderName} userId={userId} />);
  await screen.findByText(/^Up to .* per file$/);
  return { ...r, folderInput: screen.getByLabelText('Choose a folder to upload') as HTMLInputElement };
}

const batchRegion = () => screen.getByRole('region', { name: 'Batch progress' });

// The folder at path below base (null: the root), from the mock's folders.
function folderAt(base: number | null, path: string) {
  let parent = base;
  let found: (typeof db.folders)[number] | undefined;
  for (const name of path.split('/')) {
    found = db.folders.find((f) => f.parent_id === parent && f.name === name);
    if (!found) return undefined;
    parent = found.id;
  }
  return found;
}

// Where each file landed: name → folder id.
const placed = () => Object.fromEntries(db.files.map((f) => [f.original_filename, f.folder_id]));

describe('FileUpload: a chosen or dropped folder recreates its tree', () => {
  it('makes each folder once, parents first, in the folder open, and sends each file with its folder_id', async () => {
    const owner = logIn(createUser());
    const projects = addFolder(owner.id, 'Projects');
    // Slow folder creations: the files started together wait for the same one.
    server.use(
      http.post('/api/folders', async () => {
        await delay(30);
        return undefined;
      }),
    );
    const { user, folderInput } = await renderUpload(projects.id, 'Projects');
    await user.upload(folderInput, folderFiles(ALBUM));
    expect(await within(batchRegion()).findByText('All 6 files uploaded')).toBeInTheDocument();

    const album = folderAt(projects.id, 'album')!;
    const day1 = folderAt(projects.id, 'album/day-1')!;
    const day2 = folderAt(projects.id, 'album/day-2')!;
    const night = folderAt(projects.id, 'album/day-2/night')!;
    expect([album, day1, day2, night].every(Boolean)).toBe(true);
    // Four folders, one request each, every one answered 201 (a parent is
    // there before its child is asked for).
    expect(db.folderPosts).toHaveLength(4);
    expect(db.folderPosts.every((p) => p.status === 201)).toBe(true);
    expect(db.folderPosts.map((p) => p.name).sort()).toEqual(['album', 'day-1', 'day-2', 'night']);
    expect(db.folders.filter((f) => f.owner === owner.id)).toHaveLength(5);
    expect(placed()).toEqual({ 'cover.txt': album.id, 'a.txt': day1.id, 'b.txt': day1.id, 'c.txt': day2.id, 'd.txt': day2.id, 'e.txt': night.id });
    // The streamed upload names the folder before the file.
    expect(db.uploadFields.every((f) => f.join() === 'folder_id,file')).toBe(true);
    expect(screen.getByText('Uploaded 6 files')).toBeInTheDocument();
  });

  it('a dropped folder (entries with their fullPath) does the same at the root', async () => {
    logIn(createUser());
    renderWithProviders(<FileUpload />);
    await screen.findByText(/^Up to .* per file$/);
    const fileEntry = (dir: string, name: string) => {
      const file = new File([`content of ${name}`], name, { type: 'text/plain' });
      return { isFile: true, isDirectory: false, name, fullPath: `${dir}/${name}`, file: (ok: (f: File) => void) => ok(file) };
    };
    const dirEntry = (fullPath: string, children: unknown[]) => {
      let listed = false;
      return {
        isDirectory: true,
        isFile: false,
        name: fullPath.split('/').at(-1),
        fullPath,
        createReader: () => ({
          readEntries: (done: (entries: unknown[]) => void) => {
            const batch = listed ? [] : children;
            listed = true;
            void Promise.resolve().then(() => done(batch));
          },
        }),
      };
    };
    const trip = dirEntry('/trip', [fileEntry('/trip', 'map.txt'), dirEntry('/trip/day-1', [fileEntry('/trip/day-1', 'x.txt'), fileEntry('/trip/day-1', 'y.txt')])]);
    fireEvent.drop(screen.getByTestId('dropzone'), {
      dataTransfer: { files: [], items: [{ kind: 'file', type: '', getAsFile: () => null, webkitGetAsEntry: () => trip }], types: ['Files'] },
    });
    expect(await within(await screen.findByRole('region', { name: 'Batch progress' })).findByText('All 3 files uploaded')).toBeInTheDocument();
    const tripFolder = folderAt(null, 'trip')!;
    const day1 = folderAt(null, 'trip/day-1')!;
    expect(placed()).toEqual({ 'map.txt': tripFolder.id, 'x.txt': day1.id, 'y.txt': day1.id });
    expect(db.folderPosts.map((p) => [p.name, p.parent_id])).toEqual([
      ['trip', null],
      ['day-1', tripFolder.id],
    ]);
  });

  it('uses a folder of the same name already there (case-insensitively): choosing a folder again adds to it', async () => {
    const owner = logIn(createUser());
    const album = addFolder(owner.id, 'Album');
    const day1 = addFolder(owner.id, 'DAY-1', album.id);
    const { user, folderInput } = await renderUpload(null);
    await user.upload(folderInput, folderFiles(['album/day-1/a.txt', 'album/day-1/b.txt', 'album/day-2/c.txt']));
    expect(await within(batchRegion()).findByText('All 3 files uploaded')).toBeInTheDocument();

    // Refused as taken, found, used; only day-2 is new.
    const day2 = folderAt(album.id, 'day-2')!;
    expect(day2).toBeDefined();
    expect(db.folders.filter((f) => f.owner === owner.id).map((f) => f.name).sort()).toEqual(['Album', 'DAY-1', 'day-2']);
    expect(placed()).toEqual({ 'a.txt': day1.id, 'b.txt': day1.id, 'c.txt': day2.id });
    expect(db.folderPosts.filter((p) => p.name === 'album')).toEqual([{ name: 'album', parent_id: null, status: 409 }]);

    // The same again: nothing new, the files join them.
    await user.upload(folderInput, folderFiles(['album/day-2/d.txt']));
    await waitFor(() => expect(placed()['d.txt']).toBe(day2.id));
    expect(db.folders.filter((f) => f.owner === owner.id)).toHaveLength(3);
  });

  it('a folder that cannot be made leaves its files (and its subfolders’) in the nearest folder that exists, and says so once', async () => {
    const owner = logIn(createUser());
    const projects = addFolder(owner.id, 'Projects');
    server.use(
      http.post('/api/folders', async ({ request }) => {
        const { name, parent_id } = (await request.clone().json()) as { name: string; parent_id: number | null };
        const refuse = (status: number, error_code: string) => {
          db.folderPosts.push({ name, parent_id, status });
          return HttpResponse.json({ detail: 'refused', error_code }, { status });
        };
        if (name === 'deep') return refuse(409, 'FOLDER_TOO_DEEP');
        if (name === 'broken') return refuse(500, 'INTERNAL');
        return undefined;
      }),
    );
    const { user, folderInput } = await renderUpload(projects.id, 'Projects');
    await user.upload(
      folderInput,
      folderFiles(['album/ok.txt', 'album/deep/lost-1.txt', 'album/deep/deeper/lost-2.txt', 'album/deep/lost-3.txt', 'broken/lost-4.txt', 'album/day-1/fine.txt']),
    );
    expect(await within(batchRegion()).findByText('All 6 files uploaded')).toBeInTheDocument();

    const album = folderAt(projects.id, 'album')!;
    const day1 = folderAt(projects.id, 'album/day-1')!;
    // Nothing lost: each file is there, in its folder or the nearest one.
    expect(placed()).toEqual({
      'ok.txt': album.id,
      'lost-1.txt': album.id,
      'lost-2.txt': album.id,
      'lost-3.txt': album.id,
      'lost-4.txt': projects.id,
      'fine.txt': day1.id,
    });
    expect(db.files.map((f) => new TextDecoder().decode(f.content)).sort()).toHaveLength(6);
    // deep asked for once (not deeper below it), broken once.
    expect(db.folderPosts.filter((p) => p.status !== 201).map((p) => p.name).sort()).toEqual(['broken', 'deep']);
    expect(db.folderPosts.some((p) => p.name === 'deeper')).toBe(false);
    // One toast for the batch, and the summary counts them.
    expect(await screen.findAllByText(/go into the nearest folder that exists instead\.$/)).toHaveLength(1);
    expect(within(batchRegion()).getByText(/^4 files go into the nearest folder that exists: /)).toBeInTheDocument();
  });

  it('remembers a waiting file’s path and base folder, then its own folder once made', async () => {
    const owner = logIn(createUser());
    const projects = addFolder(owner.id, 'Projects');
    // The limits are not known yet: the files wait, remembered.
    const held = holdGet('/api/config', () => HttpResponse.json(db.config));
    // Then their folders take a while to be made, and their uploads never
    // end: they stay unsent, with their folder made.
    let makeFolders: () => void = () => undefined;
    const gate = new Promise<void>((r) => (makeFolders = r));
    let asked: () => void = () => undefined;
    const folderAsked = new Promise<void>((r) => (asked = r));
    server.use(
      http.post('/api/files/upload', () => delay('infinite')),
      http.post('/api/folders', async () => {
        asked();
        await gate;
        return undefined;
      }),
    );
    const { user } = renderWithProviders(<FileUpload userId={owner.id} folderId={projects.id} folderName="Projects" />);
    await user.upload(screen.getByLabelText('Choose a folder to upload') as HTMLInputElement, folderFiles(['album/day-1/a.txt', 'album/b.txt']));
    const entries = () => Object.fromEntries(loadUnsentUploads(owner.id).map((e) => [e.filename, [e.folder_id, e.path]]));
    expect(entries()).toEqual({ 'a.txt': [projects.id, 'album/day-1'], 'b.txt': [projects.id, 'album'] });
    await held.arrived;
    held.release();
    // Started, waiting for their folders: still remembered with their paths.
    await folderAsked;
    expect(await screen.findAllByText(/making its folder$/)).toHaveLength(2);
    expect(entries()).toEqual({ 'a.txt': [projects.id, 'album/day-1'], 'b.txt': [projects.id, 'album'] });
    makeFolders();
    await waitFor(() => expect(folderAt(projects.id, 'album/day-1')).toBeDefined());
    const album = folderAt(projects.id, 'album')!;
    const day1 = folderAt(projects.id, 'album/day-1')!;
    await waitFor(() => expect(entries()).toEqual({ 'a.txt': [day1.id, undefined], 'b.txt': [album.id, undefined] }));
  });

  it('files whose folders were not made when the page went away go into their tree when it is back', async () => {
    const owner = logIn(createUser());
    let makeFolders: () => void = () => undefined;
    const gate = new Promise<void>((r) => (makeFolders = r));
    server.use(
      http.post('/api/folders', async () => {
        await gate;
        return undefined;
      }),
    );
    const first = await renderUpload(null, undefined, owner.id);
    await first.user.upload(first.folderInput, folderFiles(['album/day-1/a.txt', 'album/b.txt']));
    expect(await screen.findAllByText(/making its folder$/)).toHaveLength(2);
    first.unmount();
    makeFolders();

    // Back on the page (after a login, say): the held files go on, into their tree.
    renderWithProviders(<FileUpload userId={owner.id} />);
    expect(await screen.findByText('Resuming 2 unfinished uploads')).toBeInTheDocument();
    await waitFor(() => expect(db.files).toHaveLength(2));
    const album = folderAt(null, 'album')!;
    const day1 = folderAt(null, 'album/day-1')!;
    expect(placed()).toEqual({ 'a.txt': day1.id, 'b.txt': album.id });
    expect(db.folders.filter((f) => f.owner === owner.id)).toHaveLength(2);
    await waitFor(() => expect(loadUnsentUploads(owner.id)).toEqual([]));
  });

  it('the new top folder shows in the folder list without a reload', async () => {
    logIn(createUser());
    const { user } = renderApp('/dashboard');
    await screen.findByText(/^Up to .* per file$/);
    await screen.findByText('No files yet. Upload your first file above.');
    expect(screen.queryByRole('link', { name: 'album' })).not.toBeInTheDocument();
    await user.upload(screen.getByLabelText('Choose a folder to upload') as HTMLInputElement, folderFiles(['album/day-1/a.txt']));
    const folders = await screen.findByRole('list', { name: 'Folders' });
    expect(await within(folders).findByRole('link', { name: 'album' })).toBeInTheDocument();
  });
});
