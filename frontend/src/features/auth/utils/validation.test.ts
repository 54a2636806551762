import { describe, expect, it } from 'vitest';

import { byteLength, passwordStrength, TOO_COMMON, validateEmail, validateNewPassword } from '@/features/auth/utils/validation';

describe('validateNewPassword (8..72 bytes of UTF-8)', () => {
  it.each([
    ['', 'Password is required'],
    ['1234567', 'Password must be at least 8 characters'],
    ['12345678', null],
    ['ab'.repeat(36), null],
    ['ab'.repeat(36) + 'c', 'Password must be at most 72 bytes (yours is 73)'],
    ['éa'.repeat(24), null], // 72 bytes
    ['éa'.repeat(24) + 'é', 'Password must be at most 72 bytes (yours is 74)'],
    ['🙂🙃', null], // 2 characters, 8 bytes: without the server's rules, bytes count
  ])('%j → %s', (pw, want) => expect(validateNewPassword(pw)).toBe(want));

  const rules = { min_chars: 8, max_bytes: 72 };
  it.each([
    ['🙂🙃', 'Password must be at least 8 characters'], // the server counts characters
    ['€uro-€uro', null],
    ['aaaaaaaaaa', 'One character repeated is too easy to guess. Choose another password.'],
    ['PassWord1', TOO_COMMON],
    ['ada.lovelace', 'The password must not be your email address.'],
    ['Ada.Lovelace@example.com', 'The password must not be your email address.'],
    ['ada lovelace rides', null],
  ])('with the server rules, blocklist and email: %j → %s', (pw, want) =>
    expect(validateNewPassword(pw, { rules, blocklist: new Set(['password1']), email: 'ada.lovelace@example.com' })).toBe(want),
  );

  it('counts bytes, not UTF-16 units', () => {
    expect(byteLength('🙂')).toBe(4);
    expect(byteLength('€')).toBe(3);
  });
});

describe('validateEmail', () => {
  it.each([
    ['', 'Email is required'],
    ['ada', 'Enter a valid email address'],
    ['ada@example', 'Enter a valid email address'],
    ['ada @example.com', 'Enter a valid email address'],
    ['ada@example.com', null],
    ['  ada@example.com ', null],
  ])('%j → %s', (email, want) => expect(validateEmail(email)).toBe(want));
});

describe('passwordStrength', () => {
  it('grows with length and variety', () => {
    expect(passwordStrength('short').score).toBe(0);
    expect(passwordStrength('aaaaaaaa').score).toBe(1);
    expect(passwordStrength('abcdefgh').label).toBe('Weak');
    expect(passwordStrength('abcdefgh12').label).toBe('Weak');
    expect(passwordStrength('abcdefghij12').label).toBe('Fair');
    expect(passwordStrength('Abcdefghij12').label).toBe('Good');
    expect(passwordStrength('Abcdefghij12!xyz').label).toBe('Strong');
  });
});
