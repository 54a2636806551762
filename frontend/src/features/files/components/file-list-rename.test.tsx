import { describe, expect, it } from 'vitest';
import { within } from '@testing-library/react';

import { FileList } from '@/features/files/components/file-list';
import { addFile, createUser, db } from '@/testing/mock-db';
import { logIn, renderWithProviders, screen } from '@/testing/test-utils';
import { setViewport } from '@/testing/viewport';

function setup() {
  const owner = logIn(createUser());
  const report = addFile(owner.id, 'report.final.pdf', { uploadedAt: '2026-02-01T00:00:00Z' });
  const notes = addFile(owner.id, 'notes.txt', { uploadedAt: '2026-02-02T00:00:00Z' });
  return { report, notes, render: () => renderWithProviders(<FileList refetchIntervalMs={60_000} />) };
}

const row = (id: number) => document.querySelector<HTMLElement>(`[data-file-id="${id}"]`)!;

describe('FileList rename', () => {
  it('renames in place from the Rename button: the stem is selected, Enter saves, focus returns', async () => {
    const { report, render } = setup();
    const { user } = render();
    await user.click(await screen.findByRole('button', { name: 'Rename report.final.pdf' }));
    const field = screen.getByRole('textbox', { name: 'New name for report.final.pdf' }) as HTMLInputElement;
    expect(field).toHaveFocus();
    expect([field.selectionStart, field.selectionEnd]).toEqual([0, 'report.final'.length]);
    // Typing replaces the selected stem; the extension stays.
    await user.keyboard('Q3 plan{Enter}');
    expect(db.renameCalls).toEqual([{ id: report.id, filename: 'Q3 plan.pdf' }]);
    expect(await within(row(report.id)).findByText('Q3 plan.pdf')).toBeInTheDocument();
    expect(screen.queryByRole('textbox', { name: /New name/ })).not.toBeInTheDocument();
    expect(await screen.findByText('Renamed report.final.pdf to Q3 plan.pdf')).toBeInTheDocument();
    expect(within(row(report.id)).getByRole('button', { name: 'Rename Q3 plan.pdf' })).toHaveFocus();
  });

  it('starts with F2 in a row; Escape cancels with no request', async () => {
    const { notes, render } = setup();
    const { user } = render();
    const download = await screen.findByRole('button', { name: 'Download notes.txt' });
    download.focus();
    await user.keyboard('{F2}');
    const field = screen.getByRole('textbox', { name: 'New name for notes.txt' });
    expect(field).toHaveFocus();
    await user.keyboard('other{Escape}');
    expect(screen.queryByRole('textbox', { name: /New name/ })).not.toBeInTheDocument();
    expect(within(row(notes.id)).getByText('notes.txt')).toBeInTheDocument();
    expect(db.renameCalls).toEqual([]);
    expect(within(row(notes.id)).getByRole('button', { name: 'Rename notes.txt' })).toHaveFocus();
  });

  it('keeps a refused name in the field with the reason, and saves once it is fixed', async () => {
    const { notes, render } = setup();
    const { user } = render();
    await user.click(await screen.findByRole('button', { name: 'Rename notes.txt' }));
    const field = screen.getByRole('textbox', { name: 'New name for notes.txt' });
    await user.clear(field);
    await user.type(field, 'a/b.txt{Enter}');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('filename cannot contain / or \\');
    expect(field).toHaveValue('a/b.txt');
    expect(field).toHaveAttribute('aria-invalid', 'true');
    expect(field).toHaveAttribute('aria-describedby', alert.id);
    // Leaving the field keeps what was typed while it is refused.
    await user.tab();
    expect(screen.getByRole('textbox', { name: 'New name for notes.txt' })).toHaveValue('a/b.txt');
    await user.clear(field);
    await user.type(field, 'a-b.txt{Enter}');
    expect(await within(row(notes.id)).findByText('a-b.txt')).toBeInTheDocument();
    expect(db.renameCalls).toEqual([{ id: notes.id, filename: 'a-b.txt' }]);
  });

  it('saves when the field is left, and an unchanged or empty name sends nothing', async () => {
    const { notes, report, render } = setup();
    const { user } = render();
    await user.click(await screen.findByRole('button', { name: 'Rename notes.txt' }));
    await user.keyboard('{Enter}');
    expect(db.renameCalls).toEqual([]);
    await user.click(screen.getByRole('button', { name: 'Rename notes.txt' }));
    const field = screen.getByRole('textbox', { name: 'New name for notes.txt' });
    await user.clear(field);
    await user.keyboard('{Enter}');
    expect(screen.getByRole('alert')).toHaveTextContent('A name cannot be empty.');
    await user.type(field, 'todo.txt');
    await user.click(within(row(report.id)).getByText('report.final.pdf'));
    expect(await within(row(notes.id)).findByText('todo.txt')).toBeInTheDocument();
    expect(db.renameCalls).toEqual([{ id: notes.id, filename: 'todo.txt' }]);
  });

  it('renames on a phone-sized screen too', async () => {
    setViewport('phone');
    const { notes, render } = setup();
    const { user } = render();
    await user.click(await screen.findByRole('button', { name: 'Rename notes.txt' }));
    await user.keyboard('plan{Enter}');
    expect(await within(row(notes.id)).findByText('plan.txt')).toBeInTheDocument();
    expect(row(notes.id).tagName).toBe('LI');
  });
});
