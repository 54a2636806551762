import axios, { AxiosError, type InternalAxiosRequestConfig } from 'axios';

import { env } from '@/config/env';
import { getToken } from '@/lib/auth-token';
import { toApiError } from '@/lib/api-error';
import { session } from '@/lib/session';

declare module 'axios' {
  interface AxiosRequestConfig {
    // No bearer token and no refresh on 401: the session's own requests
    // (login, signup, password reset) and a share link's public page.
    skipAuth?: boolean;
    // Set on the one retry after a refresh.
    authRetried?: boolean;
    // Counted among the requests under way (whenSettled).
    counted?: boolean;
  }
}

// The requests with the session's token under way: a logout waits for them
// to answer before the server ends the session, so that none of them gets
// a 401 (and asks for a refresh) on the way out.
let underWay = 0;
const settledWaiters = new Set<() => void>();

function settle(config: { counted?: boolean } | undefined) {
  if (!config?.counted) return;
  config.counted = false;
  underWay -= 1;
  if (underWay === 0) settledWaiters.forEach((w) => w());
}

// whenSettled resolves once no request with the token is under way, or
// after ms, whichever comes first.
export function whenSettled(ms: number): Promise<void> {
  if (underWay === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      settledWaiters.delete(done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    settledWaiters.add(done);
  });
}

// The 401 codes that say something about the token (missing, expired,
// invalid, its session over). Other 401s are about what was typed — a wrong
// password to confirm something (INVALID_CREDENTIALS), a wrong two-factor
// code — and leave the session alone.
const TOKEN_CODES = new Set(['UNAUTHORIZED', 'TOKEN_EXPIRED', 'INVALID_TOKEN', 'SESSION_EXPIRED', 'SESSION_REVOKED', 'HTTP_401']);
const ENDED_CODES = new Set(['SESSION_EXPIRED', 'SESSION_REVOKED']);

// The one HTTP client of the app: JSON, the bearer token from memory
// (refreshed first when it is about to expire), and a 401 about the token is
// answered by one refresh (shared with every other request and tab that
// needs one) and one retry of the request with the new token. Retrying is
// safe: the server refused the request before doing anything; bodies are
// Files, Blobs and JSON that can be sent again. When the session is over
// (SESSION_EXPIRED, SESSION_REVOKED, or the refresh refused) it ends.
export const api = axios.create({
  baseURL: env.API_BASE_URL,
  headers: { Accept: 'application/json' },
});

api.interceptors.request.use(async (config) => {
  if (config.skipAuth || config.headers.has('Authorization')) return config;
  await session.ensureFresh();
  const token = getToken();
  if (token) {
    config.headers.set('Authorization', `Bearer ${token}`);
    config.counted = true;
    underWay += 1;
  }
  return config;
});

function sentToken(config: InternalAxiosRequestConfig | undefined): string | null {
  const h = config?.headers?.get?.('Authorization');
  return typeof h === 'string' && h.startsWith('Bearer ') ? h.slice(7) : null;
}

api.interceptors.response.use(
  (response) => {
    settle(response.config);
    return response;
  },
  async (error: unknown) => {
    settle(error instanceof AxiosError ? error.config : undefined);
    // Blob downloads get their error body as a Blob too: read the JSON inside.
    const res = error instanceof AxiosError ? error.response : undefined;
    if (res && typeof Blob !== 'undefined' && res.data instanceof Blob && /json/i.test(String(res.headers['content-type']))) {
      try {
        res.data = JSON.parse(await res.data.text());
      } catch {
        // not JSON after all: keep the generic message
      }
    }
    const apiErr = toApiError(error, { fromApi: true });
    const config = error instanceof AxiosError ? error.config : undefined;
    const sent = sentToken(config);
    if (apiErr.status !== 401 || !config || config.skipAuth || !sent || !TOKEN_CODES.has(apiErr.code)) {
      return Promise.reject(apiErr);
    }
    if (ENDED_CODES.has(apiErr.code) || config.authRetried) {
      session.endFromServer(apiErr.code, sent);
      return Promise.reject(apiErr);
    }
    let token: string;
    try {
      token = await session.refreshAfter401(sent);
    } catch {
      // The refresh failed: a 401 has ended the session; otherwise (offline)
      // the request's own answer stands.
      return Promise.reject(apiErr);
    }
    config.authRetried = true;
    config.headers.set('Authorization', `Bearer ${token}`);
    return api.request(config);
  },
);
