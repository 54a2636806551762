// The only place that reads build-time environment variables.
// VITE_API_BASE_URL is empty by default: the SPA talks to the server that
// serves it (same origin). The hosted deployment sets it to the API Gateway URL.
const apiBaseUrl = (import.meta.env.VITE_API_BASE_URL ?? '').replace(/\/+$/, '');

export const env = {
  API_BASE_URL: apiBaseUrl,
} as const;
