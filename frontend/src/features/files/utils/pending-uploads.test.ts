import { describe, expect, it, vi } from 'vitest';

import {
  findPendingUpload,
  findUnsentUpload,
  heldFile,
  heldFiles,
  heldFolder,
  heldPath,
  holdFile,
  loadPendingUploads,
  loadUnsentUploads,
  removePendingUpload,
  removeUnsentUpload,
  savePendingUpload,
  saveUnsentUpload,
  saveUnsentUploads,
  type PendingUpload,
} from '@/features/files/utils/pending-uploads';

const KEY = 'hybrid-storage.pending-uploads.7';
const NOW = Date.parse('2026-03-01T12:00:00Z');

function entry(p: Partial<PendingUpload> = {}): PendingUpload {
  return {
    upload_id: 'up-1',
    filename: 'big.bin',
    size: 10,
    last_modified: 1_700_000_000_000,
    part_size: 4,
    expires_at: '2026-03-02T12:00:00Z',
    ...p,
  };
}

const file = new File(['0123456789'], 'big.bin', { lastModified: 1_700_000_000_000 });

describe('pending uploads', () => {
  it('finds the entry of the same file (name, size, lastModified) and forgets it on request', () => {
    savePendingUpload(7, entry(), NOW);
    expect(loadPendingUploads(7, NOW)).toEqual([entry()]);
    expect(findPendingUpload(7, file, NOW)?.upload_id).toBe('up-1');
    expect(findPendingUpload(7, new File(['0123456789'], 'big.bin', { lastModified: 1 }), NOW)).toBeNull();
    expect(findPendingUpload(7, new File(['012345678'], 'big.bin', { lastModified: 1_700_000_000_000 }), NOW)).toBeNull();
    expect(findPendingUpload(7, new File(['0123456789'], 'other.bin', { lastModified: 1_700_000_000_000 }), NOW)).toBeNull();

    removePendingUpload(7, 'up-1', NOW);
    expect(findPendingUpload(7, file, NOW)).toBeNull();
    expect(window.localStorage.getItem(KEY)).toBeNull();
  });

  it('keeps each user’s entries apart', () => {
    savePendingUpload(7, entry(), NOW);
    expect(findPendingUpload(8, file, NOW)).toBeNull();
    expect(findPendingUpload(7, file, NOW)).not.toBeNull();
  });

  it('refreshes an entry saved again under the same upload id', () => {
    savePendingUpload(7, entry(), NOW);
    savePendingUpload(7, entry({ expires_at: '2026-03-03T00:00:00Z' }), NOW);
    expect(loadPendingUploads(7, NOW)).toEqual([entry({ expires_at: '2026-03-03T00:00:00Z' })]);
  });

  it('ignores and prunes entries whose session has expired', () => {
    savePendingUpload(7, entry({ upload_id: 'old', expires_at: '2026-03-01T11:59:59Z' }), NOW - 3600_000);
    expect(findPendingUpload(7, file, NOW)).toBeNull();
    savePendingUpload(7, entry({ upload_id: 'new', filename: 'x' }), NOW);
    expect(JSON.parse(window.localStorage.getItem(KEY)!)).toEqual([entry({ upload_id: 'new', filename: 'x' })]);
  });

  it.each([
    ['not JSON', '{oops'],
    ['not an array', '{"upload_id":"up-1"}'],
    ['null', 'null'],
    ['entries of the wrong shape', JSON.stringify([1, 'x', null, { upload_id: 'up-1' }, { ...entry(), size: '10' }, { ...entry(), expires_at: 'soon' }])],
  ])('survives corrupt content (%s)', (_, raw) => {
    window.localStorage.setItem(KEY, raw);
    expect(loadPendingUploads(7, NOW)).toEqual([]);
    expect(findPendingUpload(7, file, NOW)).toBeNull();
    savePendingUpload(7, entry(), NOW);
    expect(loadPendingUploads(7, NOW)).toEqual([entry()]);
  });

  it('keeps the good entries next to corrupt ones', () => {
    window.localStorage.setItem(KEY, JSON.stringify([{ nonsense: true }, entry()]));
    expect(findPendingUpload(7, file, NOW)?.upload_id).toBe('up-1');
  });

  it('never throws when storage does', () => {
    vi.spyOn(Storage.prototype, 'getItem').mockImplementation(() => {
      throw new Error('SecurityError');
    });
    vi.spyOn(Storage.prototype, 'setItem').mockImplementation(() => {
      throw new Error('QuotaExceededError');
    });
    expect(() => savePendingUpload(7, entry(), NOW)).not.toThrow();
    expect(findPendingUpload(7, file, NOW)).toBeNull();
    expect(() => removePendingUpload(7, 'up-1', NOW)).not.toThrow();
  });
});

describe('unsent uploads', () => {
  const UNSENT = 'hybrid-storage.unsent-uploads.7';

  it('remembers a picked file for 7 days, holds the File for this page, and forgets both on request', () => {
    saveUnsentUpload(7, 'u-1', file, NOW);
    expect(loadUnsentUploads(7, NOW)).toEqual([
      { id: 'u-1', filename: 'big.bin', size: 10, last_modified: 1_700_000_000_000, expires_at: '2026-03-08T12:00:00.000Z' },
    ]);
    expect(heldFile(7, 'u-1')).toBe(file);
    expect(findUnsentUpload(7, file, NOW)?.id).toBe('u-1');
    expect(findUnsentUpload(8, file, NOW)).toBeNull();
    expect(loadUnsentUploads(7, NOW + 7 * 86_400_000)).toEqual([]);

    removeUnsentUpload(7, 'u-1', NOW);
    expect(heldFile(7, 'u-1')).toBeUndefined();
    expect(window.localStorage.getItem(UNSENT)).toBeNull();
  });

  it('never stores the file’s bytes, only its name, size and date', () => {
    saveUnsentUpload(7, 'u-1', file, NOW);
    expect(window.localStorage.getItem(UNSENT)).not.toContain('0123456789');
  });

  it('forgetting a multipart upload lets go of its File too', () => {
    holdFile(7, 'up-1', file);
    savePendingUpload(7, entry(), NOW);
    removePendingUpload(7, 'up-1', NOW);
    expect(heldFile(7, 'up-1')).toBeUndefined();
  });

  it('remembers a whole drop at once: storage lists the newest 50, the page holds every file', () => {
    saveUnsentUpload(7, 'u-old', file, NOW);
    const drop = Array.from({ length: 80 }, (_, i) => ({ id: `d-${i}`, file: new File([`${i}`], `f-${i}.txt`) }));
    const setItem = vi.spyOn(Storage.prototype, 'setItem');
    saveUnsentUploads(7, drop, NOW);
    expect(setItem).toHaveBeenCalledTimes(1);
    expect(loadUnsentUploads(7, NOW).map((e) => e.id)).toEqual(drop.slice(-50).map((d) => d.id));
    expect(heldFiles(7).map(([id]) => id)).toEqual(['u-old', ...drop.map((d) => d.id)]);
    expect(heldFiles(8)).toEqual([]);
    expect(heldFile(7, 'd-0')).toBe(drop[0].file);
  });

  it('remembers the folders still to be made for a file of a dropped folder, and forgets them once it has its folder', () => {
    saveUnsentUploads(7, [{ id: 'd-1', file, folderId: 3, path: 'album/day-1' }], NOW);
    expect(loadUnsentUploads(7, NOW).map((e) => [e.folder_id, e.path])).toEqual([[3, 'album/day-1']]);
    expect([heldFolder(7, 'd-1'), heldPath(7, 'd-1')]).toEqual([3, 'album/day-1']);
    saveUnsentUpload(7, 'd-1', file, NOW, 42);
    expect(loadUnsentUploads(7, NOW).map((e) => [e.folder_id, e.path])).toEqual([[42, undefined]]);
    expect([heldFolder(7, 'd-1'), heldPath(7, 'd-1')]).toEqual([42, null]);
    // A path that is no string is no entry.
    window.localStorage.setItem(UNSENT, JSON.stringify([{ ...loadUnsentUploads(7, NOW)[0], path: 5 }]));
    expect(loadUnsentUploads(7, NOW)).toEqual([]);
  });

  it('survives corrupt content', () => {
    window.localStorage.setItem(UNSENT, JSON.stringify([{ id: 3 }, 'x', null]));
    expect(loadUnsentUploads(7, NOW)).toEqual([]);
    window.localStorage.setItem(UNSENT, '{nope');
    expect(loadUnsentUploads(7, NOW)).toEqual([]);
    expect(() => saveUnsentUpload(7, 'u-2', file, NOW)).not.toThrow();
  });
});
