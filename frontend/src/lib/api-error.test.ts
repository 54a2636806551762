import { describe, expect, it } from 'vitest';
import { http, HttpResponse } from 'msw';

import { api } from '@/lib/api-client';
import { ApiError } from '@/lib/api-error';
import { server } from '@/testing/server';

// What the app's client makes of an answer of the API.
async function failureOf(answer: () => Response): Promise<ApiError> {
  server.use(http.get('/api/probe', answer));
  const err = await api.get('/api/probe').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}

const apiError = (status: number, error_code: string, detail: string, headers?: Record<string, string>) => () =>
  HttpResponse.json({ detail, error_code }, { status, headers });

describe('toApiError: messages for the API’s answers', () => {
  it.each([
    [409, 'UPLOAD_COMPLETING', { 'Retry-After': '2' }, 2, 'The server is finishing this upload. Try again in a few seconds.'],
    [429, 'TOO_MANY_UPLOADS', { 'Retry-After': '60' }, 60, 'You have too many uploads in progress. Finish or cancel one, then try again.'],
    [413, 'UPLOAD_QUOTA_EXCEEDED', {}, null, 'Your uploads in progress add up to more than you may upload at once. Finish or cancel one first.'],
    [412, 'PRECONDITION_FAILED', {}, null, 'The file has changed on the server since this page loaded it. Reload the page and try again.'],
    [
      431,
      'HEADERS_TOO_LARGE',
      {},
      null,
      "The request's headers were too large for the server. Log out and in again, or clear this site's cookies, then try again.",
    ],
    [503, 'SERVICE_UNAVAILABLE', { 'Retry-After': '1' }, 1, 'The server is busy. Try again in a few seconds.'],
    [503, 'SERVICE_UNAVAILABLE', { 'Retry-After': '30' }, 30, 'The server is busy. Try again in 30 seconds.'],
  ])('%i %s', async (status, code, headers, retryAfter, message) => {
    const err = await failureOf(apiError(status, code, 'the server’s own words', headers));
    expect(err).toMatchObject({ status, code, retryAfter, message });
  });

  it('keys on error_code, not the status: 413 FILE_TOO_LARGE keeps the server’s detail', async () => {
    const tooLarge = await failureOf(apiError(413, 'FILE_TOO_LARGE', 'file exceeds 100 MB'));
    expect(tooLarge).toMatchObject({ status: 413, code: 'FILE_TOO_LARGE', message: 'file exceeds 100 MB' });
    const quota = await failureOf(apiError(413, 'UPLOAD_QUOTA_EXCEEDED', 'the uploads in progress would add up'));
    expect(quota.message).not.toMatch(/too large/i);
  });

  it('codes it does not know keep the server’s detail', async () => {
    const err = await failureOf(apiError(409, 'EMAIL_TAKEN', 'email already registered'));
    expect(err.message).toBe('email already registered');
  });

  it.each([
    [412, 'The file has changed on the server since this page loaded it. Reload the page and try again.'],
    [431, "The request's headers were too large for the server. Log out and in again, or clear this site's cookies, then try again."],
    [503, 'The server is busy. Try again in a few seconds.'],
  ])('a bare %i from a proxy in front of the API (no JSON body) gets the same message', async (status, message) => {
    const err = await failureOf(() => new HttpResponse('<html>busy</html>', { status, headers: { 'Content-Type': 'text/html' } }));
    expect(err).toMatchObject({ status, code: `HTTP_${status}`, message });
  });

  it('other bare statuses still say the status', async () => {
    const err = await failureOf(() => new HttpResponse(null, { status: 502 }));
    expect(err.message).toBe('Request failed (502)');
  });
});
