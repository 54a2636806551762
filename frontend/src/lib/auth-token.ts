// The access token, in memory only: never in localStorage or a cookie a page
// script can read, so a script injected into the page cannot carry it away
// past this page's life. A reload gets a new one from the refresh cookie
// (lib/session.ts).

export type TokenStore = {
  get(): string | null;
  // When the token stops working, in this machine's epoch milliseconds
  // (null: unknown).
  expiresAt(): number | null;
  // expiresIn: the server's expires_in (seconds), counted from now so that a
  // wrong clock on this machine does not matter; without it, the JWT's exp.
  set(token: string, expiresIn?: number | null): void;
  clear(): void;
  subscribe(listener: () => void): () => void;
};

export function createTokenStore(now: () => number = Date.now): TokenStore {
  let token: string | null = null;
  let expiresAt: number | null = null;
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((l) => l());
  return {
    get: () => token,
    expiresAt: () => expiresAt,
    set(value, expiresIn) {
      const at = typeof expiresIn === 'number' && expiresIn > 0 ? now() + expiresIn * 1000 : tokenExpiry(value);
      if (value === token && at === expiresAt) return;
      token = value;
      expiresAt = at;
      notify();
    },
    clear() {
      if (token === null) return;
      token = null;
      expiresAt = null;
      notify();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

// The page's one token.
export const tokenStore = createTokenStore();

export function getToken(): string | null {
  return tokenStore.get();
}

// tokenExpiry returns the JWT's `exp` as epoch milliseconds, or null when the
// token has none or cannot be decoded. The signature is not checked: the
// server does that; the client only wants to know when to refresh.
export function tokenExpiry(token: string): number | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const padded = b64 + '='.repeat((4 - (b64.length % 4)) % 4);
    const payload = JSON.parse(atob(padded)) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : null;
  } catch {
    return null;
  }
}
