import { describe, expect, it } from 'vitest';

import { uploadFile, usesMultipart } from '@/features/files/api/upload-file';
import { createUser } from '@/testing/mock-db';
import { logIn } from '@/testing/test-utils';

describe('uploadFile', () => {
  it('reports upload progress in the file’s own bytes', async () => {
    logIn(createUser());
    const events: { loaded: number; total: number }[] = [];
    const file = new File(['0123456789'], 'p.txt', { type: 'text/plain' });
    const res = await uploadFile(file, { onProgress: (p) => events.push(p) });
    expect(res.original_filename).toBe('p.txt');
    expect(res.storage_location).toBe('minio');
    expect(events.length).toBeGreaterThan(0);
    expect(events.at(-1)).toEqual({ loaded: 10, total: 10 });
  });
});

describe('usesMultipart', () => {
  const file = new File(['x'.repeat(100)], 'x');
  it.each([
    [undefined, false],
    [{ max_file_size_bytes: 1000, multipart_threshold_bytes: 0 }, false],
    [{ max_file_size_bytes: 1000, multipart_threshold_bytes: 100 }, false],
    [{ max_file_size_bytes: 1000, multipart_threshold_bytes: 99 }, true],
  ])('%j → %s', (config, want) => expect(usesMultipart(file, config)).toBe(want));
});
