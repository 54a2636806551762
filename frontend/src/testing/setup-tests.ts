import '@testing-library/jest-dom/vitest';
import { cleanup, configure } from '@testing-library/react';
import { Blob as NodeBlob, File as NodeFile } from 'node:buffer';
import { afterAll, afterEach, beforeAll, beforeEach, vi } from 'vitest';

import { releaseAllFiles } from '@/features/files/utils/pending-uploads';
import { tokenStore } from '@/lib/auth-token';
import { resetDb } from '@/testing/mock-db';
import { server } from '@/testing/server';
import { setViewport } from '@/testing/viewport';

// Lazy route chunks load on first use and a busy CI machine is slow: give
// async queries some slack.
configure({ asyncUtilTimeout: 5000 });

// React warnings (act, keys, DOM nesting) and other console errors fail the test.
const consoleProblems: string[] = [];
const original = { error: console.error, warn: console.warn };
beforeAll(() => {
  console.error = (...args: unknown[]) => {
    consoleProblems.push(args.map(String).join(' '));
    original.error(...args);
  };
  console.warn = (...args: unknown[]) => {
    consoleProblems.push(args.map(String).join(' '));
    original.warn(...args);
  };
});
afterEach(() => {
  const problems = consoleProblems.splice(0);
  if (problems.length > 0) throw new Error(`console errors/warnings during the test:\n${problems.join('\n')}`);
});
afterAll(() => {
  console.error = original.error;
  console.warn = original.warn;
});

// Any request without a handler is a bug in the test or the app.
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
beforeEach(() => {
  resetDb();
  tokenStore.clear();
  // A new page: no File objects held from earlier tests.
  releaseAllFiles();
  window.localStorage.clear();
  setViewport('desktop');
});
afterEach(() => {
  cleanup();
  server.resetHandlers();
  server.events.removeAllListeners();
  vi.useRealTimers();
});
afterAll(() => server.close());

if (!('createObjectURL' in URL)) {
  Object.defineProperty(URL, 'createObjectURL', { configurable: true, writable: true, value: () => 'blob:mock' });
  Object.defineProperty(URL, 'revokeObjectURL', { configurable: true, writable: true, value: () => undefined });
}

// jsdom's File/Blob/FormData cannot be read by the fetch Request that MSW
// builds from an XHR body (the file arrives as "undefined"). Use Node's own
// (undici's FormData is reachable through Response, which jsdom leaves alone).
const NodeFormData = (await new Response(new URLSearchParams()).formData()).constructor;
Object.assign(globalThis, { Blob: NodeBlob, File: NodeFile, FormData: NodeFormData });
