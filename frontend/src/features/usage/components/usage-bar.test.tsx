import { describe, expect, it } from 'vitest';
import { within } from '@testing-library/react';

import { UsageBar } from '@/features/usage/components/usage-bar';
import { addFile, createUser, db, trashFile } from '@/testing/mock-db';
import { logIn, renderWithProviders, screen } from '@/testing/test-utils';

describe('UsageBar', () => {
  it('shows hot, cold and trash against the quota', async () => {
    const me = logIn(createUser());
    db.quota = 10 * 1024 * 1024;
    addFile(me.id, 'hot.bin', { size: 1024 * 1024 });
    addFile(me.id, 'cold.bin', { location: 's3', size: 2 * 1024 * 1024 });
    trashFile(addFile(me.id, 'gone.bin', { size: 512 * 1024 }).id);
    addFile(createUser('eve@example.com').id, 'theirs.bin', { size: 5 * 1024 * 1024 });
    renderWithProviders(<UsageBar />);

    const meter = await screen.findByRole('meter', { name: 'Storage used' });
    expect(meter).toHaveAttribute('aria-valuenow', String(3.5 * 1024 * 1024));
    expect(meter).toHaveAttribute('aria-valuemax', String(10 * 1024 * 1024));
    expect(screen.getByText('3.5 MiB of 10.0 MiB used')).toBeInTheDocument();
    const legend = screen.getByRole('list', { name: 'Storage by place' });
    expect(within(legend).getByText('MinIO 1.0 MiB')).toBeInTheDocument();
    expect(within(legend).getByText('S3 2.0 MiB')).toBeInTheDocument();
    expect(within(legend).getByText(/^Trash 512(\.0)? KiB$/)).toBeInTheDocument();
  });

  it('without a quota says only what is used', async () => {
    const me = logIn(createUser());
    addFile(me.id, 'a.bin', { size: 2048 });
    renderWithProviders(<UsageBar />);
    expect(await screen.findByText('2.0 KiB used · no quota')).toBeInTheDocument();
    // No bar: one without a maximum would read as full.
    expect(screen.queryByRole('meter')).not.toBeInTheDocument();
  });
});
