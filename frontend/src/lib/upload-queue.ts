// The upload queue: runs at most `limit` jobs at once, in the order they
// were added; the rest wait. A job whose server said "busy" (429 with
// Retry-After: the per-user cap on streamed uploads, MAX_STREAMED_UPLOADS_PER_USER)
// goes back to the front of the line and the whole queue waits before it
// starts anything again: Retry-After, doubled for each busy answer in a row
// (at most maxBackoffMs), with some jitter so that tabs do not retry in step.
// Nothing is dropped: a busy job is always tried again.
//
// The queue knows nothing of files or React: the component gives it run(),
// which sends one upload and says how it ended.

// What run() says of a job: done (sent, failed for good or cancelled: the
// job leaves the queue) or busy (send it again later).
export type JobResult = { type: 'done' } | { type: 'busy'; retryAfterMs: number };

export type UploadQueueOptions<J> = {
  limit: number;
  run: (job: J) => Promise<JobResult>;
  // Upper bound of one wait after busy answers.
  maxBackoffMs?: number;
  // For tests: a number in [0, 1) for the jitter.
  random?: () => number;
  // The queue is waiting out a busy answer (until, in ms since the epoch),
  // or not any more (null).
  onPause?: (until: number | null) => void;
};

export type UploadQueue<J extends { id: number }> = ReturnType<typeof createUploadQueue<J>>;

export const DEFAULT_MAX_BACKOFF_MS = 60_000;

export function createUploadQueue<J extends { id: number }>(options: UploadQueueOptions<J>) {
  const { limit, run, maxBackoffMs = DEFAULT_MAX_BACKOFF_MS, random = Math.random, onPause } = options;
  if (!(limit >= 1)) throw new Error('upload queue: limit must be at least 1');
  let waiting: J[] = [];
  let running = 0;
  let busyInARow = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;

  const finish = (job: J, result: JobResult | undefined) => {
    running -= 1;
    if (stopped) return;
    if (result?.type === 'busy') {
      waiting.unshift(job);
      pause(result.retryAfterMs);
    } else {
      busyInARow = 0;
    }
    pump();
  };

  function pause(retryAfterMs: number) {
    busyInARow += 1;
    const base = Math.max(retryAfterMs, 250) * 2 ** Math.min(busyInARow - 1, 10);
    const wait = Math.round(Math.min(base, maxBackoffMs) * (0.8 + 0.4 * random()));
    if (timer !== null) clearTimeout(timer);
    onPause?.(Date.now() + wait);
    timer = setTimeout(() => {
      timer = null;
      onPause?.(null);
      pump();
    }, wait);
  }

  function pump() {
    // While paused nothing new starts; the uploads under way go on.
    if (timer !== null || stopped) return;
    while (running < limit && waiting.length > 0) {
      const job = waiting.shift()!;
      running += 1;
      let result: Promise<JobResult>;
      try {
        result = run(job);
      } catch {
        result = Promise.resolve({ type: 'done' });
      }
      void result.then(
        (r) => finish(job, r),
        () => finish(job, undefined),
      );
    }
  }

  return {
    // add queues jobs at the end of the line and starts what the limit allows.
    add(...jobs: J[]): void {
      waiting.push(...jobs);
      pump();
    },
    // remove takes a job that has not started out of the line; false if it
    // was not waiting.
    remove(id: number): boolean {
      const before = waiting.length;
      waiting = waiting.filter((j) => j.id !== id);
      return waiting.length !== before;
    },
    has(id: number): boolean {
      return waiting.some((j) => j.id === id);
    },
    // stop: the page goes away: nothing starts any more (what waits is in
    // the caller's own bookkeeping, to be queued again by the next page).
    stop(): void {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      waiting = [];
    },
    get waiting(): number {
      return waiting.length;
    },
    get running(): number {
      return running;
    },
    get paused(): boolean {
      return timer !== null;
    },
  };
}
