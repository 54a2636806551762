// @vitest-environment-options {"url": "https://files.example.test/dashboard"}
import { describe, expect, it } from 'vitest';
import { http, HttpResponse } from 'msw';

import { multipartUpload } from '@/features/files/api/multipart-upload';
import { STORAGE_ORIGIN } from '@/testing/handlers';
import { createUser, db } from '@/testing/mock-db';
import { server } from '@/testing/server';
import { logIn } from '@/testing/test-utils';

// A page served over https whose hot tier hands out http part URLs: the
// browser blocks every PUT as mixed content (here: no answer at all).
describe('multipartUpload from an https page', () => {
  it('names MINIO_SECURE and MINIO_PUBLIC_ENDPOINT when the http part URLs are blocked', async () => {
    expect(window.location.protocol).toBe('https:');
    expect(STORAGE_ORIGIN.startsWith('http:')).toBe(true);
    logIn(createUser());
    db.config.multipart_threshold_bytes = 4;
    server.use(http.put(`${STORAGE_ORIGIN}/hot/:id`, () => HttpResponse.error()));
    const file = new File(['0123456789'], 'big.bin', { type: 'application/octet-stream' });

    const err = await multipartUpload(file).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'STORAGE_BLOCKED',
      message: `The browser blocked the upload: this page is https but the storage server (${STORAGE_ORIGIN}) is http. Set MINIO_SECURE=true and an https MINIO_PUBLIC_ENDPOINT.`,
    });
  });
});
