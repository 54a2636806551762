import { http } from 'msw';

import { server } from '@/testing/server';

// holdGet makes the mock server hold GET requests to path until release(),
// then answer them with answer(): a request under way for as long as a
// test needs. arrived resolves when the first one reaches the server.
export function holdGet(path: string, answer: () => Response) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let reached!: () => void;
  const arrived = new Promise<void>((resolve) => (reached = resolve));
  server.use(
    http.get(path, async () => {
      reached();
      await gate;
      return answer();
    }),
  );
  return { arrived, release };
}
