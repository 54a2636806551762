import axios, { AxiosError } from 'axios';

import { env } from '@/config/env';
import { emitUnauthorized, getToken } from '@/lib/auth-token';
import { toApiError } from '@/lib/api-error';

// The one HTTP client of the app: JSON, bearer token from storage, and every
// 401 on an authenticated request ends the session — except a wrong password
// typed to confirm something (INVALID_CREDENTIALS): the token is still good.
export const api = axios.create({
  baseURL: env.API_BASE_URL,
  headers: { Accept: 'application/json' },
});

api.interceptors.request.use((config) => {
  const token = getToken();
  if (token && !config.headers.has('Authorization')) {
    config.headers.set('Authorization', `Bearer ${token}`);
  }
  return config;
});

api.interceptors.response.use(
  (response) => response,
  async (error: unknown) => {
    // Blob downloads get their error body as a Blob too: read the JSON inside.
    const res = error instanceof AxiosError ? error.response : undefined;
    if (res && typeof Blob !== 'undefined' && res.data instanceof Blob && /json/i.test(String(res.headers['content-type']))) {
      try {
        res.data = JSON.parse(await res.data.text());
      } catch {
        // not JSON after all: keep the generic message
      }
    }
    if (error instanceof AxiosError && error.response?.status === 401) {
      const sent = error.config?.headers?.get?.('Authorization');
      const code = (error.response.data as { error_code?: unknown } | undefined)?.error_code;
      if (sent && code !== 'INVALID_CREDENTIALS') emitUnauthorized();
    }
    return Promise.reject(toApiError(error, { fromApi: true }));
  },
);
