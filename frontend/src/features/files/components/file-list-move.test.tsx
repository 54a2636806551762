import { describe, expect, it } from 'vitest';
import { http, HttpResponse } from 'msw';
import { fireEvent, waitFor, within } from '@testing-library/react';

import { FileList } from '@/features/files/components/file-list';
import { DRAGGED_FILES_TYPE } from '@/lib/drag-files';
import { addFile, addFolder, createUser, db } from '@/testing/mock-db';
import { server } from '@/testing/server';
import { logIn, renderWithProviders, screen } from '@/testing/test-utils';
import { setViewport } from '@/testing/viewport';

// At the root: folders Projects (with 2026 inside) and Archive; files a, b, c.
function setup() {
  const owner = logIn(createUser());
  const projects = addFolder(owner.id, 'Projects');
  const y2026 = addFolder(owner.id, '2026', projects.id);
  const archive = addFolder(owner.id, 'Archive');
  const ids: Record<string, number> = {};
  ['a', 'b', 'c'].forEach((n, i) => {
    ids[n] = addFile(owner.id, `${n}.txt`, { uploadedAt: `2026-02-0${i + 1}T00:00:00Z` }).id;
  });
  return { owner, projects, y2026, archive, ids };
}

const render = (folderId: number | null = null) => renderWithProviders(<FileList refetchIntervalMs={60_000} folderId={folderId} />);
const fileRow = (name: string) => screen.getByRole('row', { name: new RegExp(name.replace('.', '\\.')) });
const folderRow = (name: string) =>
  within(screen.getByRole('list', { name: 'Folders' }))
    .getByRole('link', { name })
    .closest('li') as HTMLElement;

// A stand-in for the browser's DataTransfer: what a drag carries.
function dataTransfer(osTypes?: string[]) {
  const data = new Map<string, string>();
  return {
    get types() {
      return osTypes ?? [...data.keys()];
    },
    setData: (type: string, value: string) => void data.set(type, value),
    getData: (type: string) => data.get(type) ?? '',
    dropEffect: 'none',
    effectAllowed: 'all',
    files: [],
    items: [],
  };
}

// drag moves the row onto target as a browser does: dragstart on the row,
// dragenter/dragover on the target (checked: highlighted), drop.
function drag(row: HTMLElement, target: HTMLElement) {
  const dt = dataTransfer();
  fireEvent.dragStart(row, { dataTransfer: dt });
  fireEvent.dragEnter(target, { dataTransfer: dt });
  fireEvent.dragOver(target, { dataTransfer: dt });
  expect(target).toHaveAttribute('data-drop-target', 'true');
  fireEvent.drop(target, { dataTransfer: dt });
  return dt;
}

describe('FileList: moving files', () => {
  it('moves one file with its Move button: the dialog browses folders, PATCH folder_id, the file leaves the list', async () => {
    const { ids, y2026 } = setup();
    const { user } = render();
    await user.click(await screen.findByRole('button', { name: 'Move b.txt' }));
    const dialog = screen.getByRole('dialog', { name: 'Move b.txt' });
    // Where the file is now: moving there changes nothing.
    expect(within(dialog).getByRole('button', { name: 'Move here' })).toBeDisabled();
    await user.click(await within(dialog).findByRole('button', { name: 'Projects' }));
    await user.click(await within(dialog).findByRole('button', { name: '2026' }));
    expect(dialog).toHaveTextContent('In: My files / Projects / 2026');
    await user.click(within(dialog).getByRole('button', { name: 'Move here' }));

    expect(await screen.findByText('Moved b.txt to 2026')).toBeInTheDocument();
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    await waitFor(() => expect(screen.queryByRole('row', { name: /b\.txt/ })).not.toBeInTheDocument());
    expect(db.moveCalls).toEqual([{ id: ids.b, folder_id: y2026.id }]);
    expect(db.bulkCalls).toEqual([]);
  });

  it('moves the selected files in one bulk call from the bulk bar', async () => {
    const { ids, archive } = setup();
    const { user } = render();
    await user.click(await screen.findByRole('checkbox', { name: 'Select a.txt' }));
    await user.click(screen.getByRole('checkbox', { name: 'Select c.txt' }));
    await user.click(within(screen.getByRole('region', { name: 'Selected files' })).getByRole('button', { name: 'Move' }));
    const dialog = screen.getByRole('dialog', { name: 'Move 2 files' });
    await user.click(await within(dialog).findByRole('button', { name: 'Archive' }));
    await user.click(within(dialog).getByRole('button', { name: 'Move here' }));

    expect(await screen.findByText('Moved 2 files to Archive')).toBeInTheDocument();
    expect(db.bulkCalls).toEqual([{ action: 'move', ids: [ids.c, ids.a], target_folder_id: archive.id }]);
    await waitFor(() => expect(screen.getAllByTestId('file-row')).toHaveLength(1));
    expect(screen.queryByRole('region', { name: 'Selected files' })).not.toBeInTheDocument();
  });

  it('moves a file of a folder up to the root', async () => {
    const { owner, projects } = setup();
    const inner = addFile(owner.id, 'inner.txt', { folderId: projects.id });
    const { user } = render(projects.id);
    await user.click(await screen.findByRole('button', { name: 'Move inner.txt' }));
    const dialog = screen.getByRole('dialog', { name: 'Move inner.txt' });
    await within(dialog).findByRole('button', { name: 'Projects' });
    await user.click(within(dialog).getByRole('button', { name: 'Move here' }));
    expect(await screen.findByText('Moved inner.txt to My files')).toBeInTheDocument();
    expect(db.moveCalls).toEqual([{ id: inner.id, folder_id: null }]);
    expect(await screen.findByText('No files in this folder yet. Upload files above to add them here.')).toBeInTheDocument();
  });

  it('says in the dialog when the target folder is gone (404 FOLDER_NOT_FOUND), and stays open', async () => {
    setup();
    server.use(http.patch('/api/files/:id', () => HttpResponse.json({ detail: 'folder not found', error_code: 'FOLDER_NOT_FOUND' }, { status: 404 })));
    const { user } = render();
    await user.click(await screen.findByRole('button', { name: 'Move a.txt' }));
    const dialog = screen.getByRole('dialog', { name: 'Move a.txt' });
    await user.click(await within(dialog).findByRole('button', { name: 'Archive' }));
    await user.click(within(dialog).getByRole('button', { name: 'Move here' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('Archive is gone: it was deleted or moved to the trash.');
    expect(fileRow('a.txt')).toBeInTheDocument();
  });

  it('moves a file row dropped on a folder row, with the folder highlighted while over it', async () => {
    const { ids, archive } = setup();
    render();
    await screen.findByRole('row', { name: /a\.txt/ });
    await screen.findByRole('link', { name: 'Archive' });
    const dt = drag(fileRow('a.txt'), folderRow('Archive'));
    expect(JSON.parse(dt.getData(DRAGGED_FILES_TYPE))).toEqual({ ids: [ids.a], names: ['a.txt'], from: null });
    expect(folderRow('Archive')).not.toHaveAttribute('data-drop-target');
    expect(await screen.findByText('Moved a.txt to Archive')).toBeInTheDocument();
    expect(db.moveCalls).toEqual([{ id: ids.a, folder_id: archive.id }]);
    await waitFor(() => expect(screen.queryByRole('row', { name: /a\.txt/ })).not.toBeInTheDocument());
  });

  it('a selected row takes every selected row along', async () => {
    const { ids, projects } = setup();
    const { user } = render();
    await user.click(await screen.findByRole('checkbox', { name: 'Select a.txt' }));
    await user.click(screen.getByRole('checkbox', { name: 'Select b.txt' }));
    await screen.findByRole('link', { name: 'Projects' });
    drag(fileRow('b.txt'), folderRow('Projects'));
    expect(await screen.findByText('Moved 2 files to Projects')).toBeInTheDocument();
    expect(db.bulkCalls).toEqual([{ action: 'move', ids: [ids.b, ids.a], target_folder_id: projects.id }]);
  });

  it('moves a file row dropped on a breadcrumb; the open folder’s own crumb takes nothing', async () => {
    const { owner, projects, y2026 } = setup();
    const deep = addFile(owner.id, 'deep.txt', { folderId: y2026.id });
    render(y2026.id);
    await screen.findByRole('row', { name: /deep\.txt/ });
    const nav = screen.getByRole('navigation', { name: 'Breadcrumb' });
    const current = await within(nav).findByRole('link', { name: '2026' });
    const dt = dataTransfer();
    fireEvent.dragStart(fileRow('deep.txt'), { dataTransfer: dt });
    fireEvent.dragOver(current, { dataTransfer: dt });
    expect(current).not.toHaveAttribute('data-drop-target');
    fireEvent.drop(current, { dataTransfer: dt });
    expect(db.moveCalls).toEqual([]);

    drag(fileRow('deep.txt'), within(nav).getByRole('link', { name: 'Projects' }));
    expect(await screen.findByText('Moved deep.txt to Projects')).toBeInTheDocument();
    expect(db.moveCalls).toEqual([{ id: deep.id, folder_id: projects.id }]);
  });

  it('leaves files dragged from the computer alone: no highlight, no move', async () => {
    setup();
    render();
    const target = folderRow((await screen.findByRole('link', { name: 'Archive' })).textContent!);
    const os = dataTransfer(['Files']);
    fireEvent.dragEnter(target, { dataTransfer: os });
    fireEvent.dragOver(target, { dataTransfer: os });
    expect(target).not.toHaveAttribute('data-drop-target');
    fireEvent.drop(target, { dataTransfer: os });
    expect(db.moveCalls).toEqual([]);
    expect(db.bulkCalls).toEqual([]);
  });

  it('moves a folder row dropped on another folder row (never on itself), or on a breadcrumb', async () => {
    const { projects, y2026, archive } = setup();
    const { unmount } = render();
    await screen.findByRole('link', { name: 'Archive' });
    const dt = dataTransfer();
    fireEvent.dragStart(folderRow('Archive'), { dataTransfer: dt });
    fireEvent.dragOver(folderRow('Archive'), { dataTransfer: dt });
    expect(folderRow('Archive')).not.toHaveAttribute('data-drop-target');
    fireEvent.dragEnter(folderRow('Projects'), { dataTransfer: dt });
    fireEvent.dragOver(folderRow('Projects'), { dataTransfer: dt });
    expect(folderRow('Projects')).toHaveAttribute('data-drop-target', 'true');
    fireEvent.drop(folderRow('Projects'), { dataTransfer: dt });
    fireEvent.dragEnd(screen.getByRole('list', { name: 'Folders' }), { dataTransfer: dt });
    expect(await screen.findByText('Moved folder Archive to Projects')).toBeInTheDocument();
    expect(db.folders.find((f) => f.id === archive.id)?.parent_id).toBe(projects.id);
    unmount();

    // From inside Projects, 2026 dragged up to the root's crumb.
    render(projects.id);
    const nav = screen.getByRole('navigation', { name: 'Breadcrumb' });
    await within(nav).findByRole('link', { name: 'Projects' });
    await screen.findByRole('link', { name: '2026' });
    drag(folderRow('2026'), within(nav).getByRole('link', { name: 'My files' }));
    expect(await screen.findByText('Moved folder 2026 to My files')).toBeInTheDocument();
    expect(db.folders.find((f) => f.id === y2026.id)?.parent_id).toBeNull();
    await waitFor(() => expect(screen.queryByRole('link', { name: '2026' })).not.toBeInTheDocument());
  });

  it('says why a folder dropped on another could not move there (NAME_TAKEN)', async () => {
    const { owner, projects } = setup();
    addFolder(owner.id, 'archive', projects.id);
    render();
    await screen.findByRole('link', { name: 'Archive' });
    drag(folderRow('Archive'), folderRow('Projects'));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'Could not move folder Archive: There is already a folder named “Archive” in Projects. Rename one of them first.',
    );
  });

  it('has Move on each phone card too', async () => {
    setViewport('phone');
    const { ids, archive } = setup();
    const { user } = render();
    const cards = await screen.findByRole('list', { name: 'Files' });
    await user.click(within(cards).getByRole('button', { name: 'Move c.txt' }));
    const dialog = screen.getByRole('dialog', { name: 'Move c.txt' });
    await user.click(await within(dialog).findByRole('button', { name: 'Archive' }));
    await user.click(within(dialog).getByRole('button', { name: 'Move here' }));
    expect(await screen.findByText('Moved c.txt to Archive')).toBeInTheDocument();
    expect(db.moveCalls).toEqual([{ id: ids.c, folder_id: archive.id }]);
  });
});
