import { describe, expect, it } from 'vitest';
import { http, HttpResponse } from 'msw';
import { waitFor, within } from '@testing-library/react';

import { FileList } from '@/features/files/components/file-list';
import { addFile, createUser, db } from '@/testing/mock-db';
import { server } from '@/testing/server';
import { logIn, renderWithProviders, screen } from '@/testing/test-utils';
import { setViewport } from '@/testing/viewport';

// Five files, listed newest first: e, d, c, b, a.
function setup(trashDays = 30) {
  db.config.trash_retention_days = trashDays;
  const owner = logIn(createUser());
  const ids: Record<string, number> = {};
  ['a', 'b', 'c', 'd', 'e'].forEach((n, i) => {
    ids[n] = addFile(owner.id, `${n}.txt`, { uploadedAt: `2026-02-0${i + 1}T00:00:00Z` }).id;
  });
  return { owner, ids, render: () => renderWithProviders(<FileList refetchIntervalMs={60_000} />) };
}

const box = (name: string) => screen.getByRole('checkbox', { name: `Select ${name}` });
const listed = () => screen.queryAllByTestId('file-row').map((r) => r.querySelector('td:nth-child(2)')?.textContent);

describe('FileList selection and bulk actions', () => {
  it('selects with checkboxes, a shift-click range and select-all (indeterminate when some)', async () => {
    const { render } = setup();
    const { user } = render();
    await screen.findByRole('checkbox', { name: 'Select a.txt' });
    const all = screen.getByRole('checkbox', { name: 'Select all files' }) as HTMLInputElement;
    expect(screen.queryByRole('region', { name: 'Selected files' })).not.toBeInTheDocument();

    await user.click(box('d.txt'));
    expect(box('d.txt')).toBeChecked();
    expect(all.indeterminate).toBe(true);
    expect(all).not.toBeChecked();
    // Shift-click: d through b.
    await user.keyboard('{Shift>}');
    await user.click(box('b.txt'));
    await user.keyboard('{/Shift}');
    expect(['e', 'd', 'c', 'b', 'a'].map((n) => (box(`${n}.txt`) as HTMLInputElement).checked)).toEqual([false, true, true, true, false]);
    const bar = screen.getByRole('region', { name: 'Selected files' });
    expect(bar).toHaveTextContent('3 selected');

    await user.click(all);
    expect(all).toBeChecked();
    expect(all.indeterminate).toBe(false);
    expect(bar).toHaveTextContent('5 selected');
    await user.click(all);
    expect(screen.queryByRole('region', { name: 'Selected files' })).not.toBeInTheDocument();

    await user.click(box('a.txt'));
    await user.click(within(screen.getByRole('region', { name: 'Selected files' })).getByRole('button', { name: 'Clear selection' }));
    expect(box('a.txt')).not.toBeChecked();
    expect(screen.queryByRole('region', { name: 'Selected files' })).not.toBeInTheDocument();
  });

  it('reaches the checkboxes with Tab and toggles them with Space', async () => {
    const { render } = setup();
    const { user } = render();
    await screen.findByRole('checkbox', { name: 'Select e.txt' });
    screen.getByRole('checkbox', { name: 'Select all files' }).focus();
    // Past the sort headers to the first row's checkbox.
    for (let i = 0; i < 10 && document.activeElement !== box('e.txt'); i++) await user.tab();
    expect(box('e.txt')).toHaveFocus();
    await user.keyboard(' ');
    expect(box('e.txt')).toBeChecked();
    await user.keyboard(' ');
    expect(box('e.txt')).not.toBeChecked();
  });

  it('moves the selected files to the trash after confirmation, and Undo restores them', async () => {
    const { ids, render } = setup();
    const { user } = render();
    await user.click(await screen.findByRole('checkbox', { name: 'Select b.txt' }));
    await user.click(box('d.txt'));
    await user.click(within(screen.getByRole('region', { name: 'Selected files' })).getByRole('button', { name: 'Move to trash' }));
    const dialog = screen.getByRole('dialog', { name: 'Move 2 files to the trash?' });
    expect(within(dialog).getByRole('button', { name: 'Cancel' })).toHaveFocus();
    await user.click(within(dialog).getByRole('button', { name: 'Move to trash' }));

    expect(await screen.findByText('Moved 2 files to the trash')).toBeInTheDocument();
    await waitFor(() => expect(listed()).toEqual(['e.txt', 'c.txt', 'a.txt']));
    expect(db.bulkCalls).toEqual([{ action: 'delete', ids: [ids.d, ids.b] }]);
    expect(screen.queryByRole('region', { name: 'Selected files' })).not.toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Undo' }));
    expect(await screen.findByText('Restored 2 files')).toBeInTheDocument();
    await waitFor(() => expect(listed()).toEqual(['e.txt', 'd.txt', 'c.txt', 'b.txt', 'a.txt']));
    expect(db.bulkCalls[1]).toEqual({ action: 'restore', ids: [ids.d, ids.b] });
    expect(db.trash).toHaveLength(0);
  });

  it('says which files failed when some did, and offers Undo for the rest', async () => {
    const { ids, render } = setup();
    server.use(
      http.post('/api/files/bulk', () =>
        HttpResponse.json({
          results: [
            { id: ids.c, status: 'trashed' },
            { id: ids.a, status: 'failed', error_code: 'FILE_NOT_FOUND', detail: 'file not found' },
          ],
        }),
      ),
    );
    const { user } = render();
    await user.click(await screen.findByRole('checkbox', { name: 'Select c.txt' }));
    await user.click(box('a.txt'));
    await user.click(within(screen.getByRole('region', { name: 'Selected files' })).getByRole('button', { name: 'Move to trash' }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Move to trash' }));
    expect(await screen.findByText('Moved 1 file to the trash. 1 file failed: a.txt')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Undo' })).toBeInTheDocument();
  });

  it('without a trash, deletes the selected files for good, with no Undo', async () => {
    const { render } = setup(0);
    const { user } = render();
    await user.click(await screen.findByRole('checkbox', { name: 'Select all files' }));
    await user.click(within(screen.getByRole('region', { name: 'Selected files' })).getByRole('button', { name: 'Delete' }));
    const dialog = screen.getByRole('dialog', { name: 'Delete 5 files?' });
    expect(dialog).toHaveTextContent('This cannot be undone.');
    await user.click(within(dialog).getByRole('button', { name: 'Delete' }));
    expect(await screen.findByText('Deleted 5 files')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Undo' })).not.toBeInTheDocument();
    expect(await screen.findByText('No files yet. Upload your first file above.')).toBeInTheDocument();
    expect(db.files).toHaveLength(0);
  });

  it('drops files that leave the list from the selection', async () => {
    const { ids, render } = setup();
    const { user } = render();
    await user.click(await screen.findByRole('checkbox', { name: 'Select a.txt' }));
    await user.click(box('b.txt'));
    // a.txt is deleted on its own, with its row's button.
    await user.click(screen.getByRole('button', { name: 'Delete a.txt' }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Move to trash' }));
    await waitFor(() => expect(screen.queryByRole('checkbox', { name: 'Select a.txt' })).not.toBeInTheDocument());
    expect(screen.getByRole('region', { name: 'Selected files' })).toHaveTextContent('1 selected');
    await user.click(within(screen.getByRole('region', { name: 'Selected files' })).getByRole('button', { name: 'Move to trash' }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Move to trash' }));
    expect(await screen.findByText('Moved 1 file to the trash')).toBeInTheDocument();
    expect(db.bulkCalls).toEqual([{ action: 'delete', ids: [ids.b] }]);
  });

  it('has a checkbox on each phone card and a select-all', async () => {
    setViewport('phone');
    const { render } = setup();
    const { user } = render();
    const cards = await screen.findByRole('list', { name: 'Files' });
    expect(within(cards).getAllByRole('checkbox')).toHaveLength(5);
    await user.click(within(cards).getByRole('checkbox', { name: 'Select c.txt' }));
    expect(screen.getByRole('region', { name: 'Selected files' })).toHaveTextContent('1 selected');
    await user.click(screen.getByRole('checkbox', { name: 'Select all files' }));
    expect(screen.getByRole('region', { name: 'Selected files' })).toHaveTextContent('5 selected');
  });
});
