import { describe, expect, it } from 'vitest';

import { nextFilesSort, parseFilesSort } from '@/features/files/utils/files-sort';

describe('files sort', () => {
  it.each([
    ['', { sort: 'uploaded_at', order: 'desc' }],
    ['sort=name', { sort: 'name', order: 'asc' }],
    ['sort=size', { sort: 'size', order: 'desc' }],
    ['sort=name&order=desc', { sort: 'name', order: 'desc' }],
    ['sort=uploaded_at&order=asc', { sort: 'uploaded_at', order: 'asc' }],
    ['sort=size&order=up', { sort: 'size', order: 'desc' }],
    ['sort=date&order=asc', { sort: 'uploaded_at', order: 'desc' }],
  ])('reads ?%s', (query, want) => {
    expect(parseFilesSort(new URLSearchParams(query))).toEqual(want);
  });

  it('flips the order of the same column, and starts another in its default order', () => {
    expect(nextFilesSort({ sort: 'name', order: 'asc' }, 'name')).toEqual({ sort: 'name', order: 'desc' });
    expect(nextFilesSort({ sort: 'name', order: 'desc' }, 'name')).toEqual({ sort: 'name', order: 'asc' });
    expect(nextFilesSort({ sort: 'uploaded_at', order: 'desc' }, 'name')).toEqual({ sort: 'name', order: 'asc' });
    expect(nextFilesSort({ sort: 'name', order: 'asc' }, 'size')).toEqual({ sort: 'size', order: 'desc' });
    expect(nextFilesSort({ sort: 'name', order: 'desc' }, 'uploaded_at')).toEqual({ sort: 'uploaded_at', order: 'desc' });
  });
});
