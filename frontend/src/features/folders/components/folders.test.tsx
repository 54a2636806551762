import { describe, expect, it } from 'vitest';
import { http, HttpResponse } from 'msw';
import { waitFor, within } from '@testing-library/react';

import { FileList } from '@/features/files/components/file-list';
import { addFile, addFolder, createUser, db } from '@/testing/mock-db';
import { server } from '@/testing/server';
import { logIn, renderApp, renderWithProviders, screen } from '@/testing/test-utils';
import { setViewport } from '@/testing/viewport';

// Projects/2026 with a file in 2026, and a file at the root.
function tree() {
  const owner = logIn(createUser());
  const projects = addFolder(owner.id, 'Projects');
  const y2026 = addFolder(owner.id, '2026', projects.id);
  addFile(owner.id, 'plan.txt', { folderId: y2026.id });
  addFile(owner.id, 'root.txt');
  return { owner, projects, y2026 };
}

const crumbs = () => screen.getByRole('navigation', { name: 'Breadcrumb' });
const crumbNames = () => within(crumbs()).getAllByRole('link').map((a) => a.textContent);
const folderNames = () => within(screen.getByRole('list', { name: 'Folders' })).getAllByRole('link').map((a) => a.textContent);

describe('folders: navigation from the URL', () => {
  it('opens the folder in the URL with its breadcrumbs and only its files; links, crumbs and Back move between folders', async () => {
    const { projects, y2026 } = tree();
    const { router, user } = renderApp(`/files/${y2026.id}`);

    expect(await screen.findByRole('row', { name: /plan\.txt/ })).toBeInTheDocument();
    expect(screen.queryByRole('row', { name: /root\.txt/ })).not.toBeInTheDocument();
    await waitFor(() => expect(crumbNames()).toEqual(['My files', 'Projects', '2026']));
    expect(within(crumbs()).getByRole('link', { name: '2026' })).toHaveAttribute('aria-current', 'page');
    expect(within(crumbs()).getByRole('link', { name: 'Projects' })).not.toHaveAttribute('aria-current');
    expect(screen.getByRole('heading', { name: '2026' })).toBeInTheDocument();
    // Uploads go into the folder open.
    expect(screen.getByText('Files go into').parentElement).toHaveTextContent('Files go into 2026');
    await waitFor(() => expect(document.title).toBe('2026 · Hybrid Storage'));

    // Up by a breadcrumb: the parent, its subfolder listed, no files.
    await user.click(within(crumbs()).getByRole('link', { name: 'Projects' }));
    expect(router.state.location.pathname).toBe(`/files/${projects.id}`);
    expect(await screen.findByText('No files in this folder yet. Upload files above to add them here.')).toBeInTheDocument();
    await waitFor(() => expect(folderNames()).toEqual(['2026']));
    expect(screen.getByRole('heading', { name: 'Projects' })).toHaveFocus();

    // Into the subfolder by its name (Enter on the link), then Back.
    within(screen.getByRole('list', { name: 'Folders' })).getByRole('link', { name: '2026' }).focus();
    await user.keyboard('{Enter}');
    expect(router.state.location.pathname).toBe(`/files/${y2026.id}`);
    expect(await screen.findByRole('row', { name: /plan\.txt/ })).toBeInTheDocument();
    await router.navigate(-1);
    await waitFor(() => expect(router.state.location.pathname).toBe(`/files/${projects.id}`));
    expect(await screen.findByRole('heading', { name: 'Projects' })).toBeInTheDocument();

    // The root.
    await user.click(within(crumbs()).getByRole('link', { name: 'My files' }));
    expect(router.state.location.pathname).toBe('/dashboard');
    expect(await screen.findByRole('row', { name: /root\.txt/ })).toBeInTheDocument();
    expect(screen.queryByRole('row', { name: /plan\.txt/ })).not.toBeInTheDocument();
    expect(folderNames()).toEqual(['Projects']);
    expect(within(crumbs()).getByRole('link', { name: 'My files' })).toHaveAttribute('aria-current', 'page');
  });

  it('asks the API for one folder’s files (folder_id), the root’s as folder_id=root, and every folder’s while searching', async () => {
    const { y2026 } = tree();
    const asked: (string | null)[] = [];
    server.events.on('request:start', ({ request }) => {
      const url = new URL(request.url);
      if (url.pathname === '/api/files') asked.push(url.searchParams.get('folder_id'));
    });
    const { user } = renderWithProviders(<FileList refetchIntervalMs={60_000} searchDebounceMs={0} />);
    expect(await screen.findByRole('row', { name: /root\.txt/ })).toBeInTheDocument();
    expect(asked).toEqual(['root']);
    await user.type(screen.getByRole('searchbox', { name: 'Search files' }), 'plan');
    expect(await screen.findByRole('row', { name: /plan\.txt/ })).toBeInTheDocument();
    expect(asked.at(-1)).toBeNull();
    expect(screen.getByText('Searching in every folder.')).toBeInTheDocument();
    expect(screen.queryByRole('list', { name: 'Folders' })).not.toBeInTheDocument();
    server.events.removeAllListeners();
    expect(y2026.id).toBeGreaterThan(0);
  });

  it('says so when the folder in the URL does not exist, with a link to the root', async () => {
    tree();
    const { router, user } = renderApp('/files/999');
    expect(await screen.findByRole('heading', { name: 'Folder not found' })).toBeInTheDocument();
    expect(screen.getByRole('alert')).toHaveTextContent('This folder does not exist');
    // Uploads picked here would go to the root.
    expect(screen.getByText('Files go into').parentElement).toHaveTextContent('Files go into My files');
    await user.click(screen.getByRole('link', { name: 'Go to My files' }));
    expect(router.state.location.pathname).toBe('/dashboard');
    expect(await screen.findByRole('row', { name: /root\.txt/ })).toBeInTheDocument();
  });

  it('takes an id that is no number for a missing folder without asking the server for it', async () => {
    tree();
    const asked: string[] = [];
    server.events.on('request:start', ({ request }) => asked.push(new URL(request.url).pathname));
    renderApp('/files/abc');
    expect(await screen.findByRole('heading', { name: 'Folder not found' })).toBeInTheDocument();
    expect(asked.filter((p) => p.startsWith('/api/folders') || p === '/api/files')).toEqual([]);
    server.events.removeAllListeners();
  });

  it('shows the root at /files too', async () => {
    tree();
    renderApp('/files');
    expect(await screen.findByRole('row', { name: /root\.txt/ })).toBeInTheDocument();
    expect(await screen.findByRole('link', { name: 'Projects' })).toBeInTheDocument();
  });
});

describe('folders: new, rename, delete', () => {
  it('makes a new folder from an inline field; a taken name (NAME_TAKEN) is said next to it and kept to fix', async () => {
    const owner = logIn(createUser());
    addFolder(owner.id, 'Projects');
    let posts = 0;
    server.events.on('request:start', ({ request }) => {
      if (request.method === 'POST' && new URL(request.url).pathname === '/api/folders') posts += 1;
    });
    const { user } = renderWithProviders(<FileList refetchIntervalMs={60_000} />);
    await screen.findByRole('link', { name: 'Projects' });

    await user.click(screen.getByRole('button', { name: 'New folder' }));
    const field = screen.getByRole('textbox', { name: 'Name of the new folder' });
    expect(field).toHaveFocus();
    await user.keyboard('projects{Enter}');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('There is already a folder named “projects” in My files. Choose another name.');
    expect(field).toHaveValue('projects');
    expect(field).toHaveAttribute('aria-invalid', 'true');
    expect(field).toHaveAttribute('aria-describedby', alert.id);

    await user.clear(field);
    await user.type(field, 'Photos{Enter}');
    await waitFor(() => expect(folderNames()).toEqual(['Photos', 'Projects']));
    expect(screen.queryByRole('textbox', { name: 'Name of the new folder' })).not.toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Photos' })).toHaveFocus();
    expect(await screen.findByText('Created folder Photos')).toBeInTheDocument();
    expect(db.folders.map((f) => [f.name, f.parent_id])).toEqual([
      ['Projects', null],
      ['Photos', null],
    ]);
    expect(posts).toBe(2);

    // Escape cancels without a request.
    await user.click(screen.getByRole('button', { name: 'New folder' }));
    await user.keyboard('Drafts{Escape}');
    expect(screen.queryByRole('textbox', { name: 'Name of the new folder' })).not.toBeInTheDocument();
    expect(posts).toBe(2);
    server.events.removeAllListeners();
  });

  it('makes the new folder inside the folder open', async () => {
    const owner = logIn(createUser());
    const projects = addFolder(owner.id, 'Projects');
    const { user } = renderWithProviders(<FileList refetchIntervalMs={60_000} folderId={projects.id} />);
    await user.click(await screen.findByRole('button', { name: 'New folder' }));
    await user.keyboard('2026{Enter}');
    expect(await screen.findByRole('link', { name: '2026' })).toBeInTheDocument();
    expect(db.folders.find((f) => f.name === '2026')?.parent_id).toBe(projects.id);
  });

  it('renames a folder in place with F2; Escape cancels', async () => {
    const owner = logIn(createUser());
    const projects = addFolder(owner.id, 'Projects');
    const { user } = renderWithProviders(<FileList refetchIntervalMs={60_000} />);
    (await screen.findByRole('link', { name: 'Projects' })).focus();
    await user.keyboard('{F2}');
    const field = screen.getByRole('textbox', { name: 'New name for folder Projects' });
    expect(field).toHaveFocus();
    await user.keyboard('Other{Escape}');
    expect(screen.getByRole('link', { name: 'Projects' })).toBeInTheDocument();

    screen.getByRole('link', { name: 'Projects' }).focus();
    await user.keyboard('{F2}');
    await user.keyboard('Work{Enter}');
    expect(await screen.findByRole('link', { name: 'Work' })).toBeInTheDocument();
    expect(db.folders.find((f) => f.id === projects.id)?.name).toBe('Work');
    expect(screen.getByRole('button', { name: 'Rename folder Work' })).toHaveFocus();
  });

  it('moves a folder to the trash with everything in it, and Undo restores it', async () => {
    db.config.trash_retention_days = 30;
    const { projects } = tree();
    const { user } = renderWithProviders(<FileList refetchIntervalMs={60_000} />);
    await user.click(await screen.findByRole('button', { name: 'Delete folder Projects' }));
    const dialog = screen.getByRole('dialog', { name: 'Move folder to the trash?' });
    expect(dialog).toHaveTextContent('Projects and everything in it (its folders and files) go to the trash');
    await user.click(within(dialog).getByRole('button', { name: 'Move to trash' }));
    expect(await screen.findByText('Moved folder Projects to the trash')).toBeInTheDocument();
    await waitFor(() => expect(screen.queryByRole('list', { name: 'Folders' })).not.toBeInTheDocument());
    // No folder left: focus goes to the list's heading.
    await waitFor(() => expect(screen.getByRole('heading', { name: 'Your files' })).toHaveFocus());
    expect(db.trashedFolders.map((t) => [t.folder.id, t.descendants.length, t.files.length])).toEqual([[projects.id, 1, 1]]);

    await user.click(screen.getByRole('button', { name: 'Undo' }));
    expect(await screen.findByText('Restored folder Projects')).toBeInTheDocument();
    expect(await screen.findByRole('link', { name: 'Projects' })).toBeInTheDocument();
    expect(db.files.map((f) => f.original_filename).sort()).toEqual(['plan.txt', 'root.txt']);
  });

  it('works on a phone-sized screen: folders above the file cards, with their actions', async () => {
    setViewport('phone');
    tree();
    renderWithProviders(<FileList refetchIntervalMs={60_000} />);
    const folders = await screen.findByRole('list', { name: 'Folders' });
    expect(within(folders).getByRole('button', { name: 'Move folder Projects' })).toBeInTheDocument();
    expect(await screen.findByRole('list', { name: 'Files' })).toBeInTheDocument();
    expect(screen.queryByRole('table')).not.toBeInTheDocument();
  });
});

describe('folders: the Move dialog', () => {
  it('browses from the root (Up goes back) and moves a folder there by PATCH parent_id', async () => {
    const owner = logIn(createUser());
    const a = addFolder(owner.id, 'Alpha');
    const b = addFolder(owner.id, 'Beta');
    addFolder(owner.id, 'Inner', b.id);
    const { user } = renderWithProviders(<FileList refetchIntervalMs={60_000} />);
    await user.click(await screen.findByRole('button', { name: 'Move folder Alpha' }));
    const dialog = screen.getByRole('dialog', { name: 'Move folder Alpha' });
    // At the root, where Alpha is: it cannot be chosen, nor the root itself.
    expect(await within(dialog).findByRole('button', { name: /Alpha/ })).toBeDisabled();
    expect(within(dialog).getByRole('button', { name: 'Move here' })).toBeDisabled();
    expect(within(dialog).getByRole('button', { name: 'Up' })).toBeDisabled();

    await user.click(within(dialog).getByRole('button', { name: 'Beta' }));
    expect(dialog).toHaveTextContent('In: My files / Beta');
    await user.click(await within(dialog).findByRole('button', { name: 'Inner' }));
    expect(dialog).toHaveTextContent('In: My files / Beta / Inner');
    await user.click(within(dialog).getByRole('button', { name: 'Up to Beta' }));
    expect(dialog).toHaveTextContent('In: My files / Beta');
    await within(dialog).findByRole('button', { name: 'Inner' });
    await user.click(within(dialog).getByRole('button', { name: 'Move here' }));

    expect(await screen.findByText('Moved folder Alpha to Beta')).toBeInTheDocument();
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(db.folders.find((f) => f.id === a.id)?.parent_id).toBe(b.id);
    await waitFor(() => expect(folderNames()).toEqual(['Beta']));
  });

  it('works from the keyboard: focus moves in and stays inside, Enter opens a folder, Escape closes and focus returns', async () => {
    const owner = logIn(createUser());
    addFolder(owner.id, 'Alpha');
    addFolder(owner.id, 'Beta');
    const { user } = renderWithProviders(<FileList refetchIntervalMs={60_000} />);
    const opener = await screen.findByRole('button', { name: 'Move folder Beta' });
    opener.focus();
    await user.keyboard('{Enter}');
    const dialog = screen.getByRole('dialog', { name: 'Move folder Beta' });
    const alpha = await within(dialog).findByRole('button', { name: 'Alpha' });
    expect(dialog).toContainElement(document.activeElement as HTMLElement);
    for (let i = 0; i < 5; i++) {
      await user.tab();
      expect(dialog).toContainElement(document.activeElement as HTMLElement);
    }
    alpha.focus();
    await user.keyboard('{Enter}');
    expect(dialog).toHaveTextContent('In: My files / Alpha');
    // Focus is on the place shown; Shift+Tab from there stays inside.
    expect(document.activeElement).toHaveTextContent('In: My files / Alpha');
    await user.tab({ shift: true });
    expect(within(dialog).getByRole('button', { name: 'Move here' })).toHaveFocus();
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(opener).toHaveFocus();
  });

  it('says clearly why a move was refused (NAME_TAKEN, FOLDER_CYCLE) and stays open', async () => {
    const owner = logIn(createUser());
    addFolder(owner.id, 'Alpha');
    const b = addFolder(owner.id, 'Beta');
    addFolder(owner.id, 'alpha', b.id);
    const { user } = renderWithProviders(<FileList refetchIntervalMs={60_000} />);
    await user.click(await screen.findByRole('button', { name: 'Move folder Alpha' }));
    const dialog = screen.getByRole('dialog', { name: 'Move folder Alpha' });
    await user.click(await within(dialog).findByRole('button', { name: 'Beta' }));
    await within(dialog).findByRole('button', { name: 'alpha' });
    await user.click(within(dialog).getByRole('button', { name: 'Move here' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('There is already a folder named “Alpha” in Beta. Rename one of them first.');

    server.use(
      http.patch('/api/folders/:id', () =>
        HttpResponse.json({ detail: 'cannot move a folder into itself', error_code: 'FOLDER_CYCLE' }, { status: 409 }),
      ),
    );
    await user.click(within(dialog).getByRole('button', { name: 'Move here' }));
    await waitFor(() =>
      expect(within(dialog).getByRole('alert')).toHaveTextContent('A folder cannot go into itself or into one of its own subfolders.'),
    );
    expect(screen.getByRole('dialog', { name: 'Move folder Alpha' })).toBeInTheDocument();
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  });
});
