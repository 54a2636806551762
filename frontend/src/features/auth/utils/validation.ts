// The API's rules: a valid email; a password of 8 to 72 bytes in UTF-8
// (bcrypt only reads 72 bytes, so the server refuses longer ones).
export const PASSWORD_MIN_BYTES = 8;
export const PASSWORD_MAX_BYTES = 72;

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function byteLength(s: string): number {
  return new TextEncoder().encode(s).length;
}

export function validateEmail(email: string): string | null {
  const v = email.trim();
  if (!v) return 'Email is required';
  if (v.length > 254 || !EMAIL_RE.test(v)) return 'Enter a valid email address';
  return null;
}

// What the server says of its password rules (GET /api/config), and the
// common passwords it refuses, when they are known.
export type NewPasswordContext = {
  rules?: { min_chars: number; max_bytes: number };
  blocklist?: ReadonlySet<string>;
  // The account's address: neither it nor its part before @ may be the password.
  email?: string;
};

export const TOO_COMMON =
  'This password is too common: it is on the list of passwords attackers try first. Choose another one.';

// validateNewPassword checks a new password as the server will: length
// (characters, and bytes for bcrypt), the blocklist, the email, one
// character repeated.
export function validateNewPassword(password: string, ctx: NewPasswordContext = {}): string | null {
  if (!password) return 'Password is required';
  const min = ctx.rules?.min_chars ?? PASSWORD_MIN_BYTES;
  const max = ctx.rules?.max_bytes ?? PASSWORD_MAX_BYTES;
  const chars = [...password].length;
  if (ctx.rules ? chars < min : byteLength(password) < min) return `Password must be at least ${min} characters`;
  const n = byteLength(password);
  if (n > max) return `Password must be at most ${max} bytes (yours is ${n})`;
  if (/^(.)\1+$/u.test(password)) return 'One character repeated is too easy to guess. Choose another password.';
  const lower = password.toLowerCase();
  const email = ctx.email?.trim().toLowerCase();
  if (email && (lower === email || lower === email.split('@')[0])) return 'The password must not be your email address.';
  if (ctx.blocklist?.has(lower)) return TOO_COMMON;
  return null;
}

export type Strength = { score: 0 | 1 | 2 | 3 | 4; label: string };

const LABELS = ['Too short', 'Weak', 'Fair', 'Good', 'Strong'] as const;

// passwordStrength is a rough guide shown while typing, not a rule: length
// counts most, then variety of character classes.
export function passwordStrength(password: string): Strength {
  const n = byteLength(password);
  if (n < PASSWORD_MIN_BYTES) return { score: 0, label: LABELS[0] };
  let points = 0;
  if (n >= 12) points += 1;
  if (n >= 16) points += 1;
  if (/[a-z]/.test(password) && /[A-Z]/.test(password)) points += 1;
  if (/\d/.test(password)) points += 1;
  if (/[^A-Za-z0-9]/.test(password)) points += 1;
  if (/^(.)\1+$/.test(password)) points = 0;
  const score = Math.min(4, Math.max(1, points)) as Strength['score'];
  return { score, label: LABELS[score] };
}
