import { describe, expect, it } from 'vitest';

import { safeRedirect } from '@/config/paths';
import { tokenExpiry } from '@/lib/auth-token';
import { formatBytes, formatOver } from '@/lib/format';
import { makeToken } from '@/testing/mock-db';

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [1536, '1.5 KiB'],
    [100 * 1024 * 1024, '100 MiB'],
    [5.25 * 1024 ** 3, '5.3 GiB'],
  ])('%d bytes → %s', (n, want) => expect(formatBytes(n)).toBe(want));
});

describe('formatOver', () => {
  it.each([
    [150 * 1024 * 1024, 100 * 1024 * 1024, '150 MiB, 50.0 MiB over the 100 MiB limit'],
    [100 * 1024 * 1024 + 1, 100 * 1024 * 1024, '104,857,601 bytes, 1 B over the 100 MiB limit'],
    [10, 8, '10 B, 2 B over the 8 B limit'],
  ])('%d past %d → %s', (size, limit, want) => expect(formatOver(size, limit)).toBe(want));
});

describe('tokenExpiry', () => {
  it('reads the exp claim of a JWT (base64url) in milliseconds', () => {
    expect(tokenExpiry(makeToken(1, 1_900_000_000_000))).toBe(1_900_000_000_000);
  });
  it.each(['', 'abc', 'a.!!!.c', `x.${btoa('{"sub":"1"}')}.y`])('returns null for %j', (t) => {
    expect(tokenExpiry(t)).toBeNull();
  });
});

describe('safeRedirect', () => {
  it.each([
    ['/dashboard?x=1', '/dashboard?x=1'],
    [null, '/dashboard'],
    ['https://evil.example/', '/dashboard'],
    ['//evil.example/', '/dashboard'],
    ['/\\evil.example', '/dashboard'],
  ])('%j → %s', (input, want) => expect(safeRedirect(input)).toBe(want));
});
