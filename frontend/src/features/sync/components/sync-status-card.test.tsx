import { describe, expect, it } from 'vitest';
import { http, HttpResponse } from 'msw';
import { waitFor, within } from '@testing-library/react';

import { syncStatusQueryKey } from '@/features/sync/api/get-sync-status';
import { SyncStatusCard } from '@/features/sync/components/sync-status-card';
import { UsageBar } from '@/features/usage/components/usage-bar';
import { formatDate } from '@/lib/format';
import { addFile, createUser, moveToS3 } from '@/testing/mock-db';
import { server } from '@/testing/server';
import { logIn, renderApp, renderWithProviders, screen } from '@/testing/test-utils';

describe('SyncStatusCard', () => {
  it('shows the last run and how many files wait for sync', async () => {
    const owner = logIn(createUser());
    addFile(owner.id, 'a.txt');
    addFile(owner.id, 'b.txt');
    addFile(owner.id, 'c.txt', { location: 's3' });
    renderWithProviders(<SyncStatusCard />);

    const card = await screen.findByRole('region', { name: 'Sync to S3' });
    const value = (term: string) => within(card).getByText(term).nextElementSibling;
    expect(value('Waiting for sync')).toHaveTextContent('2');
    expect(value('Last run')).toHaveTextContent(formatDate('2026-01-03T00:00:07Z'));
    expect(value('Synced')).toHaveTextContent('4');
    expect(value('Failed')).toHaveTextContent('1');
  });

  it('a sync that moved files refreshes the storage card', async () => {
    const owner = logIn(createUser());
    const f = addFile(owner.id, 'moves.bin', { size: 2048 });
    const { queryClient } = renderWithProviders(
      <>
        <SyncStatusCard />
        <UsageBar />
      </>,
    );
    const legend = await screen.findByRole('list', { name: 'Storage by place' });
    expect(within(legend).getByText('MinIO 2.0 KiB')).toBeInTheDocument();
    moveToS3(f.id); // the nightly run
    await queryClient.invalidateQueries({ queryKey: syncStatusQueryKey }); // the card's own poll
    await waitFor(() => expect(within(legend).getByText('S3 2.0 KiB')).toBeInTheDocument());
    expect(within(legend).getByText('MinIO 0 B')).toBeInTheDocument();
  });

  it('says "Never" when no run happened yet', async () => {
    logIn();
    server.use(http.get('/api/sync/status', () => HttpResponse.json({ last_run: null, pending: 0 })));
    renderWithProviders(<SyncStatusCard />);
    const card = await screen.findByRole('region', { name: 'Sync to S3' });
    expect(within(card).getByText('Never')).toBeInTheDocument();
    expect(within(card).queryByText('Synced')).not.toBeInTheDocument();
  });

  it('is hidden, with no error shown, when the server has no sync endpoint (404)', async () => {
    logIn();
    let calls = 0;
    server.use(
      http.get('/api/sync/status', () => {
        calls += 1;
        return HttpResponse.json({ detail: 'no such route', error_code: 'NOT_FOUND' }, { status: 404 });
      }),
    );
    renderApp('/dashboard');
    await screen.findByRole('heading', { name: 'Your files' });
    await waitFor(() => expect(calls).toBe(1));
    await waitFor(() => expect(screen.queryByText('Loading sync status…')).not.toBeInTheDocument());
    expect(screen.queryByRole('region', { name: 'Sync to S3' })).not.toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    // The rest of the dashboard works.
    expect(screen.getByRole('region', { name: 'Upload files' })).toBeInTheDocument();
  });
});
