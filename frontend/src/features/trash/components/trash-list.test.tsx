import { describe, expect, it } from 'vitest';
import { waitFor, within } from '@testing-library/react';

import { daysLeft } from '@/features/trash/api/trash';
import { TrashList } from '@/features/trash/components/trash-list';
import { addFile, addFolder, createUser, db, trashFile, trashFolder } from '@/testing/mock-db';
import { logIn, renderWithProviders, screen } from '@/testing/test-utils';

function setup() {
  db.config.trash_retention_days = 30;
  const owner = logIn(createUser());
  return { owner, render: () => renderWithProviders(<TrashList />) };
}

describe('TrashList', () => {
  it('lists the trash newest deletion first with the days left', async () => {
    const { owner, render } = setup();
    trashFile(addFile(owner.id, 'old.txt').id, 29.5);
    trashFile(addFile(owner.id, 'new.txt').id, 1);
    const other = createUser('eve@example.com');
    trashFile(addFile(other.id, 'theirs.txt').id);
    render();

    const rows = await screen.findAllByTestId('trash-row');
    expect(rows.map((r) => within(r).getByText(/\.txt$/).textContent)).toEqual(['new.txt', 'old.txt']);
    expect(within(rows[0]).getByText('29 days left')).toBeInTheDocument();
    expect(within(rows[1]).getByText('1 day left')).toBeInTheDocument();
    expect(screen.queryByText('theirs.txt')).not.toBeInTheDocument();
  });

  it('restores a file and deletes one forever after confirmation', async () => {
    const { owner, render } = setup();
    trashFile(addFile(owner.id, 'back.txt').id);
    trashFile(addFile(owner.id, 'gone.txt').id);
    const { user } = render();

    await user.click(await screen.findByRole('button', { name: 'Restore back.txt' }));
    expect(await screen.findByText('Restored back.txt')).toBeInTheDocument();
    await waitFor(() => expect(screen.queryByRole('listitem', { name: 'back.txt' })).not.toBeInTheDocument());
    expect(db.files.map((f) => f.original_filename)).toEqual(['back.txt']);

    await user.click(screen.getByRole('button', { name: 'Delete gone.txt forever' }));
    const dialog = screen.getByRole('dialog', { name: 'Delete forever?' });
    expect(within(dialog).getByRole('button', { name: 'Cancel' })).toHaveFocus();
    await user.click(within(dialog).getByRole('button', { name: 'Delete forever' }));
    expect(await screen.findByText('Deleted gone.txt forever')).toBeInTheDocument();
    expect(await screen.findByText('The trash is empty.')).toBeInTheDocument();
    expect(db.trash).toHaveLength(0);
  });

  it('empties the trash after confirmation; Cancel keeps it', async () => {
    const { owner, render } = setup();
    trashFile(addFile(owner.id, 'a.txt').id);
    trashFile(addFile(owner.id, 'b.txt').id);
    const { user } = render();

    await screen.findAllByTestId('trash-row');
    await user.click(screen.getByRole('button', { name: 'Empty trash' }));
    await user.click(within(screen.getByRole('dialog', { name: 'Empty the trash?' })).getByRole('button', { name: 'Cancel' }));
    expect(db.trash).toHaveLength(2);

    await user.click(screen.getByRole('button', { name: 'Empty trash' }));
    await user.click(within(screen.getByRole('dialog', { name: 'Empty the trash?' })).getByRole('button', { name: 'Empty trash' }));
    expect(await screen.findByText('The trash is empty.')).toBeInTheDocument();
    expect(db.trash).toHaveLength(0);
    expect(screen.getByRole('button', { name: 'Empty trash' })).toBeDisabled();
  });

  it('restores the selected files (select-all, shift-click) in one call', async () => {
    const { owner, render } = setup();
    const ids = ['a', 'b', 'c', 'd'].map((n, i) => {
      const id = addFile(owner.id, `${n}.txt`).id;
      trashFile(id, 4 - i); // listed newest deletion first: d, c, b, a
      return id;
    });
    const { user } = render();
    await user.click(await screen.findByRole('checkbox', { name: 'Select d.txt' }));
    await user.keyboard('{Shift>}');
    await user.click(screen.getByRole('checkbox', { name: 'Select b.txt' }));
    await user.keyboard('{/Shift}');
    const all = screen.getByRole('checkbox', { name: 'Select all files in the trash' }) as HTMLInputElement;
    expect(all.indeterminate).toBe(true);
    const bar = screen.getByRole('region', { name: 'Selected files' });
    expect(bar).toHaveTextContent('3 selected');
    await user.click(within(bar).getByRole('button', { name: 'Restore selected' }));

    expect(await screen.findByText('Restored 3 files')).toBeInTheDocument();
    await waitFor(() => expect(screen.getAllByTestId('trash-row')).toHaveLength(1));
    expect(db.bulkCalls).toEqual([{ action: 'restore', ids: [ids[3], ids[2], ids[1]] }]);
    expect(db.files.map((f) => f.original_filename).sort()).toEqual(['b.txt', 'c.txt', 'd.txt']);
    expect(screen.queryByRole('region', { name: 'Selected files' })).not.toBeInTheDocument();
  });

  it('lists a deleted folder once, as a folder entry with its file count and size, next to the files', async () => {
    const { owner, render } = setup();
    const projects = addFolder(owner.id, 'Projects');
    const inner = addFolder(owner.id, '2026', projects.id);
    addFile(owner.id, 'plan.txt', { folderId: projects.id, content: new Uint8Array(1000) });
    addFile(owner.id, 'deep.txt', { folderId: inner.id, content: new Uint8Array(2000) });
    // The file's id and the folder's are the same number: two entries still.
    const file = addFile(owner.id, 'loose.txt');
    trashFile(file.id, 2);
    trashFolder(projects.id, 1);
    expect(projects.id).toBe(1);
    render();

    const rows = await screen.findAllByTestId('trash-row');
    expect(rows.map((r) => r.getAttribute('aria-label'))).toEqual(['Projects', 'loose.txt']);
    expect(rows[0]).toHaveTextContent('Folder Projects');
    expect(within(rows[0]).getByText('2 files, 2.9 KiB')).toBeInTheDocument();
    expect(within(rows[0]).getByText('29 days left')).toBeInTheDocument();
    // Only files have checkboxes (bulk restore is theirs).
    expect(within(rows[0]).queryByRole('checkbox')).not.toBeInTheDocument();
    expect(within(rows[1]).getByRole('checkbox', { name: 'Select loose.txt' })).toBeInTheDocument();
    expect(screen.queryByText('2026')).not.toBeInTheDocument();
    expect(screen.queryByText('deep.txt')).not.toBeInTheDocument();
  });

  it('restores a folder with everything in it (POST /api/trash/folders/{id}/restore)', async () => {
    const { owner, render } = setup();
    const projects = addFolder(owner.id, 'Projects');
    addFolder(owner.id, '2026', projects.id);
    addFile(owner.id, 'plan.txt', { folderId: projects.id });
    trashFolder(projects.id);
    const { user } = render();
    await user.click(await screen.findByRole('button', { name: 'Restore folder Projects' }));
    expect(await screen.findByText('Restored folder Projects')).toBeInTheDocument();
    expect(await screen.findByText('The trash is empty.')).toBeInTheDocument();
    expect(db.folders.map((f) => f.name).sort()).toEqual(['2026', 'Projects']);
    expect(db.files.map((f) => [f.original_filename, f.folder_id])).toEqual([['plan.txt', projects.id]]);
  });

  it('says when a live folder took the name meanwhile (409 NAME_TAKEN), and keeps the entry', async () => {
    const { owner, render } = setup();
    const old = addFolder(owner.id, 'Projects');
    trashFolder(old.id);
    addFolder(owner.id, 'projects');
    const { user } = render();
    await user.click(await screen.findByRole('button', { name: 'Restore folder Projects' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'Could not restore folder Projects: another folder named “Projects” is where it was. Rename that one first, then restore.',
    );
    expect(screen.getByRole('listitem', { name: 'Projects' })).toBeInTheDocument();
    expect(db.trashedFolders).toHaveLength(1);
  });

  it('deletes a folder forever after confirmation (DELETE /api/trash/folders/{id})', async () => {
    const { owner, render } = setup();
    const projects = addFolder(owner.id, 'Projects');
    addFile(owner.id, 'plan.txt', { folderId: projects.id });
    trashFolder(projects.id);
    const { user } = render();
    await user.click(await screen.findByRole('button', { name: 'Delete folder Projects forever' }));
    const dialog = screen.getByRole('dialog', { name: 'Delete forever?' });
    expect(dialog).toHaveTextContent('Folder Projects and everything in it (1 file) will be removed from every tier.');
    await user.click(within(dialog).getByRole('button', { name: 'Delete forever' }));
    expect(await screen.findByText('Deleted folder Projects forever')).toBeInTheDocument();
    expect(await screen.findByText('The trash is empty.')).toBeInTheDocument();
    expect(db.trashedFolders).toHaveLength(0);
  });

  it('counts days left rounded up, never below zero', () => {
    const now = Date.parse('2026-03-01T00:00:00Z');
    expect(daysLeft('2026-03-31T00:00:00Z', now)).toBe(30);
    expect(daysLeft('2026-03-01T00:00:01Z', now)).toBe(1);
    expect(daysLeft('2026-02-28T00:00:00Z', now)).toBe(0);
  });
});
