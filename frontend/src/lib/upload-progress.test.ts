import { describe, expect, it } from 'vitest';

import { createProgressStore, summarizeBatch } from '@/lib/upload-progress';

describe('createProgressStore', () => {
  it('keeps every value at once but tells subscribers once per frame', () => {
    const frames: (() => void)[] = [];
    const store = createProgressStore((flush) => frames.push(flush));
    let heard = 0;
    const unsubscribe = store.subscribe(() => {
      heard += 1;
    });
    for (let i = 1; i <= 100; i++) store.set(i % 7, i * 10);
    expect(store.get(3)).toBe(a(3));
    expect(frames).toHaveLength(1);
    expect(heard).toBe(0);
    frames.shift()!();
    expect(heard).toBe(1);
    // The same value again is no change.
    store.set(3, store.get(3));
    expect(frames).toHaveLength(0);
    store.set(3, 1);
    frames.shift()!();
    expect(heard).toBe(2);
    expect(store.sum([1, 2, 3, 99])).toBe(store.get(1) + store.get(2) + 1);
    store.delete(3);
    expect(store.get(3)).toBe(0);
    unsubscribe();
    frames.shift()!();
    expect(heard).toBe(2);

    // The last i with i % 7 === n, times 10.
    function a(n: number) {
      let last = 0;
      for (let i = 1; i <= 100; i++) if (i % 7 === n) last = i * 10;
      return last;
    }
  });
});

describe('summarizeBatch', () => {
  it('counts files by state and adds up the bytes sent', () => {
    const s = summarizeBatch([
      { state: 'done', size: 100, loaded: 0 }, // done counts whole
      { state: 'done', size: 50, loaded: 50 },
      { state: 'active', size: 200, loaded: 80 },
      { state: 'active', size: 10, loaded: 25 }, // never more than the file
      { state: 'waiting', size: 300, loaded: 0 },
      { state: 'waiting', size: 40, loaded: 20 }, // a resume waiting with stored parts
      { state: 'failed', size: 1000, loaded: 500 },
      { state: 'cancelled', size: 7, loaded: 3 },
    ]);
    expect(s).toEqual({
      files: 7,
      done: 2,
      failed: 1,
      active: 2,
      waiting: 2,
      cancelled: 1,
      bytes: 100 + 50 + 200 + 10 + 300 + 40,
      bytesDone: 100 + 50 + 80 + 10 + 0 + 20,
    });
  });

  it('is empty for no files', () => {
    expect(summarizeBatch([])).toEqual({ files: 0, done: 0, failed: 0, active: 0, waiting: 0, cancelled: 0, bytes: 0, bytesDone: 0 });
  });
});
