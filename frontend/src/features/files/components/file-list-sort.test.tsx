import { describe, expect, it } from 'vitest';
import { waitFor, within } from '@testing-library/react';
import { useLocation } from 'react-router-dom';

import { FileList } from '@/features/files/components/file-list';
import { addFile, createUser } from '@/testing/mock-db';
import { server } from '@/testing/server';
import { logIn, renderWithProviders, screen } from '@/testing/test-utils';
import { setViewport } from '@/testing/viewport';

// Search shows the page's query string, where the sort lives.
function Search() {
  return <output data-testid="search">{useLocation().search}</output>;
}

// Three files whose name, size and upload orders all differ.
function setup(url = '/') {
  const owner = logIn(createUser());
  addFile(owner.id, 'beta.txt', { size: 3000, uploadedAt: '2026-03-01T00:00:00Z' });
  addFile(owner.id, 'Alpha.txt', { size: 10, uploadedAt: '2026-03-02T00:00:00Z' });
  addFile(owner.id, 'gamma.txt', { size: 200, uploadedAt: '2026-03-03T00:00:00Z' });
  return renderWithProviders(
    <>
      <FileList refetchIntervalMs={60_000} />
      <Search />
    </>,
    { url },
  );
}

const names = () => screen.getAllByTestId('file-row').map((r) => within(r).getByText(/\.txt$/).textContent);
const header = (name: string) => screen.getByRole('columnheader', { name });
const search = () => screen.getByTestId('search').textContent;

describe('FileList sorting', () => {
  it('lists newest first, with aria-sort on Uploaded and none on the others', async () => {
    setup();
    await screen.findByRole('row', { name: /gamma\.txt/ });
    expect(names()).toEqual(['gamma.txt', 'Alpha.txt', 'beta.txt']);
    expect(header('Uploaded')).toHaveAttribute('aria-sort', 'descending');
    expect(header('Name')).toHaveAttribute('aria-sort', 'none');
    expect(header('Size')).toHaveAttribute('aria-sort', 'none');
  });

  it('sorts by a header, flips on a second click, and keeps the sort in the URL', async () => {
    const { user } = setup();
    await screen.findByRole('row', { name: /gamma\.txt/ });

    await user.click(screen.getByRole('button', { name: 'Name' }));
    await waitFor(() => expect(names()).toEqual(['Alpha.txt', 'beta.txt', 'gamma.txt']));
    expect(header('Name')).toHaveAttribute('aria-sort', 'ascending');
    expect(header('Uploaded')).toHaveAttribute('aria-sort', 'none');
    expect(search()).toBe('?sort=name&order=asc');

    await user.click(screen.getByRole('button', { name: 'Name' }));
    await waitFor(() => expect(names()).toEqual(['gamma.txt', 'beta.txt', 'Alpha.txt']));
    expect(header('Name')).toHaveAttribute('aria-sort', 'descending');
    expect(search()).toBe('?sort=name&order=desc');

    // Another column starts in its own default order: largest first.
    await user.click(screen.getByRole('button', { name: 'Size' }));
    await waitFor(() => expect(names()).toEqual(['beta.txt', 'gamma.txt', 'Alpha.txt']));
    expect(header('Size')).toHaveAttribute('aria-sort', 'descending');
    expect(header('Name')).toHaveAttribute('aria-sort', 'none');
    expect(search()).toBe('?sort=size&order=desc');
  });

  it('starts in the sort of the URL (a reload), and asks the API for it', async () => {
    const asked: string[] = [];
    server.events.on('request:start', ({ request }) => {
      const u = new URL(request.url);
      if (u.pathname === '/api/files') asked.push(`${u.searchParams.get('sort')} ${u.searchParams.get('order')}`);
    });
    setup('/?sort=size&order=asc');
    await screen.findByRole('row', { name: /gamma\.txt/ });
    expect(names()).toEqual(['Alpha.txt', 'gamma.txt', 'beta.txt']);
    expect(header('Size')).toHaveAttribute('aria-sort', 'ascending');
    expect(asked).toContain('size asc');
  });

  it('falls back to newest first for a sort it does not know', async () => {
    setup('/?sort=colour&order=sideways');
    await screen.findByRole('row', { name: /gamma\.txt/ });
    expect(names()).toEqual(['gamma.txt', 'Alpha.txt', 'beta.txt']);
    expect(header('Uploaded')).toHaveAttribute('aria-sort', 'descending');
  });

  it('gives the phone card view a sort select', async () => {
    setViewport('phone');
    const { user } = setup();
    await screen.findByRole('list', { name: 'Files' });
    const select = screen.getByRole('combobox', { name: 'Sort files' });
    expect(select).toHaveDisplayValue('Newest first');

    await user.selectOptions(select, 'Name, Z to A');
    await waitFor(() => expect(names()).toEqual(['gamma.txt', 'beta.txt', 'Alpha.txt']));
    expect(search()).toBe('?sort=name&order=desc');
    await user.selectOptions(select, 'Smallest first');
    await waitFor(() => expect(names()).toEqual(['Alpha.txt', 'gamma.txt', 'beta.txt']));
    expect(search()).toBe('?sort=size&order=asc');
  });
});
