import { afterEach, describe, expect, it, vi } from 'vitest';

import { createUploadQueue, type JobResult } from '@/lib/upload-queue';

type Job = { id: number };

// A run() whose jobs end when the test says so.
function controlledRun() {
  const pending = new Map<number, (r: JobResult) => void>();
  const started: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const run = (job: Job) =>
    new Promise<JobResult>((resolve) => {
      started.push(job.id);
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      pending.set(job.id, (r) => {
        inFlight -= 1;
        pending.delete(job.id);
        resolve(r);
      });
    });
  const end = async (id: number, r: JobResult = { type: 'done' }) => {
    pending.get(id)!(r);
    // Let the queue hear of it and start the next.
    await Promise.resolve();
    await Promise.resolve();
  };
  return { run, pending, started, end, inFlight: () => inFlight, maxInFlight: () => maxInFlight };
}

const jobs = (n: number) => Array.from({ length: n }, (_, i) => ({ id: i + 1 }));

afterEach(() => {
  vi.useRealTimers();
});

describe('createUploadQueue', () => {
  it('runs at most limit jobs at once, in the order added, until all are done', async () => {
    const c = controlledRun();
    const q = createUploadQueue<Job>({ limit: 4, run: c.run });
    q.add(...jobs(1000));
    expect(c.started).toEqual([1, 2, 3, 4]);
    expect(q.running).toBe(4);
    expect(q.waiting).toBe(996);
    while (c.pending.size > 0) {
      const [id] = [...c.pending.keys()];
      await c.end(id);
      expect(c.inFlight()).toBeLessThanOrEqual(4);
    }
    expect(c.maxInFlight()).toBe(4);
    expect(c.started).toEqual(jobs(1000).map((j) => j.id));
    expect(q.running).toBe(0);
    expect(q.waiting).toBe(0);
  });

  it('goes on after a job that throws: it counts as done', async () => {
    const seen: number[] = [];
    const q = createUploadQueue<Job>({
      limit: 1,
      run: async (job) => {
        seen.push(job.id);
        if (job.id === 1) throw new Error('boom');
        return { type: 'done' };
      },
    });
    q.add(...jobs(3));
    await vi.waitFor(() => expect(seen).toEqual([1, 2, 3]));
    await vi.waitFor(() => expect(q.running + q.waiting).toBe(0));
  });

  it('puts a busy job back first, starts nothing while it waits out Retry-After, then tries it again', async () => {
    vi.useFakeTimers();
    const c = controlledRun();
    const pauses: (number | null)[] = [];
    const q = createUploadQueue<Job>({ limit: 2, run: c.run, random: () => 0.5, onPause: (until) => pauses.push(until) });
    q.add(...jobs(4));
    expect(c.started).toEqual([1, 2]);
    await c.end(1, { type: 'busy', retryAfterMs: 5000 });
    // Paused: job 2 goes on, nothing new starts, job 1 waits at the front.
    expect(q.paused).toBe(true);
    expect(c.started).toEqual([1, 2]);
    expect(q.waiting).toBe(3);
    await c.end(2);
    expect(c.started).toEqual([1, 2]);
    await vi.advanceTimersByTimeAsync(4999);
    expect(c.started).toEqual([1, 2]);
    await vi.advanceTimersByTimeAsync(1);
    expect(q.paused).toBe(false);
    expect(c.started).toEqual([1, 2, 1, 3]);
    expect(pauses).toHaveLength(2);
    expect(pauses[1]).toBeNull();
    await c.end(1);
    await c.end(3);
    await c.end(4);
    expect(c.started).toEqual([1, 2, 1, 3, 4]);
    expect(q.running + q.waiting).toBe(0);
  });

  it('doubles the wait for each busy answer in a row, up to the cap, with jitter; a success starts over', async () => {
    vi.useFakeTimers();
    const c = controlledRun();
    const waits: number[] = [];
    const q = createUploadQueue<Job>({
      limit: 1,
      run: c.run,
      maxBackoffMs: 30_000,
      random: () => 0, // the shortest jitter: 0.8 of the wait
      onPause: (until) => {
        if (until !== null) waits.push(until - Date.now());
      },
    });
    q.add({ id: 1 });
    for (let i = 0; i < 6; i++) {
      await c.end(1, { type: 'busy', retryAfterMs: 5000 });
      await vi.advanceTimersByTimeAsync(waits.at(-1)!);
    }
    expect(waits).toEqual([4000, 8000, 16000, 24000, 24000, 24000]);
    await c.end(1);
    q.add({ id: 2 });
    await c.end(2, { type: 'busy', retryAfterMs: 5000 });
    expect(waits.at(-1)).toBe(4000);
    // Never dropped: the busy job is still there.
    expect(q.has(2)).toBe(true);
  });

  it('remove takes a waiting job out of the line; stop starts nothing more', async () => {
    const c = controlledRun();
    const q = createUploadQueue<Job>({ limit: 1, run: c.run });
    q.add(...jobs(3));
    expect(q.remove(2)).toBe(true);
    expect(q.remove(1)).toBe(false); // already running
    await c.end(1);
    expect(c.started).toEqual([1, 3]);
    q.add({ id: 4 });
    q.stop();
    await c.end(3, { type: 'busy', retryAfterMs: 10 });
    expect(c.started).toEqual([1, 3]);
    expect(q.waiting).toBe(0);
  });
});
