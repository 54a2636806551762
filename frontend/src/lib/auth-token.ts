// Token storage and the "session ended" signal shared by the Axios client and
// the auth feature. The token lives in localStorage so a reload keeps the session.
const TOKEN_KEY = 'hybrid-storage.token';
const UNAUTHORIZED_EVENT = 'hybrid-storage:unauthorized';

export function getToken(): string | null {
  try {
    return window.localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string): void {
  window.localStorage.setItem(TOKEN_KEY, token);
}

export function clearToken(): void {
  window.localStorage.removeItem(TOKEN_KEY);
}

// emitUnauthorized tells whoever listens (the auth provider) that the server
// rejected our token.
export function emitUnauthorized(): void {
  window.dispatchEvent(new Event(UNAUTHORIZED_EVENT));
}

export function onUnauthorized(listener: () => void): () => void {
  window.addEventListener(UNAUTHORIZED_EVENT, listener);
  return () => window.removeEventListener(UNAUTHORIZED_EVENT, listener);
}

// tokenExpiry returns the JWT's `exp` as epoch milliseconds, or null when the
// token has none or cannot be decoded. The signature is not checked: the
// server does that; the client only wants to know when to log out.
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
