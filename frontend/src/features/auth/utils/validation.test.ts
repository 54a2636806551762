import { describe, expect, it } from 'vitest';

import { byteLength, passwordStrength, validateEmail, validateNewPassword } from '@/features/auth/utils/validation';

describe('validateNewPassword (8..72 bytes of UTF-8)', () => {
  it.each([
    ['', 'Password is required'],
    ['1234567', 'Password must be at least 8 characters'],
    ['12345678', null],
    ['a'.repeat(72), null],
    ['a'.repeat(73), 'Password must be at most 72 bytes (yours is 73)'],
    ['é'.repeat(36), null], // 72 bytes
    ['é'.repeat(37), 'Password must be at most 72 bytes (yours is 74)'],
    ['🙂🙂', null], // 2 characters, 8 bytes
  ])('%j → %s', (pw, want) => expect(validateNewPassword(pw)).toBe(want));

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
