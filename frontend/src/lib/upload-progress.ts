import { useSyncExternalStore } from 'react';

// Upload progress kept out of React state. A batch of a thousand files
// reports progress many times a second; each report written into a reducer
// would re-render the whole upload list. Here a report only sets a number;
// subscribers hear of changes at most once per animation frame, and each
// one (a row, the batch summary) re-renders only when the value it reads
// changed.

type Schedule = (flush: () => void) => void;

const nextFrame: Schedule = (flush) => {
  if (typeof requestAnimationFrame === 'function') requestAnimationFrame(() => flush());
  else setTimeout(flush, 16);
};

export type ProgressStore = ReturnType<typeof createProgressStore>;

export function createProgressStore(schedule: Schedule = nextFrame) {
  const loaded = new Map<number, number>();
  const listeners = new Set<() => void>();
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    listeners.forEach((l) => l());
  };
  const changed = () => {
    if (scheduled) return;
    scheduled = true;
    schedule(flush);
  };
  return {
    // set records the bytes of upload id that are on the server (or on
    // their way); the subscribers hear of it on the next frame.
    set(id: number, bytes: number): void {
      if (loaded.get(id) === bytes) return;
      loaded.set(id, bytes);
      changed();
    },
    get(id: number): number {
      return loaded.get(id) ?? 0;
    },
    delete(id: number): void {
      if (loaded.delete(id)) changed();
    },
    sum(ids: Iterable<number>): number {
      let n = 0;
      for (const id of ids) n += loaded.get(id) ?? 0;
      return n;
    },
    subscribe(listener: () => void): () => void {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}

// useLoaded: the bytes of one upload; re-renders when they change.
export function useLoaded(store: ProgressStore, id: number): number {
  return useSyncExternalStore(store.subscribe, () => store.get(id));
}

// useLoadedSum: the bytes of several uploads together.
export function useLoadedSum(store: ProgressStore, ids: readonly number[]): number {
  return useSyncExternalStore(store.subscribe, () => store.sum(ids));
}

// Where one upload of a batch stands, for the batch's summary.
export type BatchState = 'waiting' | 'active' | 'done' | 'failed' | 'cancelled';

export type BatchSummary = {
  files: number; // every file of the batch but the cancelled ones
  done: number;
  failed: number;
  active: number;
  waiting: number;
  cancelled: number;
  bytes: number; // of the files to send (not the failed or cancelled ones)
  bytesDone: number;
};

// summarizeBatch counts a batch's files by state and adds up its bytes: a
// done file counts whole, one under way or waiting with what it has sent;
// failed and cancelled files count in neither total.
export function summarizeBatch(entries: Iterable<{ state: BatchState; size: number; loaded: number }>): BatchSummary {
  const s: BatchSummary = { files: 0, done: 0, failed: 0, active: 0, waiting: 0, cancelled: 0, bytes: 0, bytesDone: 0 };
  for (const e of entries) {
    if (e.state === 'cancelled') {
      s.cancelled += 1;
      continue;
    }
    s.files += 1;
    s[e.state] += 1;
    if (e.state === 'failed') continue;
    s.bytes += e.size;
    s.bytesDone += e.state === 'done' ? e.size : Math.min(e.loaded, e.size);
  }
  return s;
}
