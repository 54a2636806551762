import axios from 'axios';

// ApiError is every failure the UI shows: the server's
// {"detail", "error_code"} body when there is one, a network or abort
// failure otherwise.
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly retryAfter: number | null;

  constructor(message: string, status: number, code: string, retryAfter: number | null = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

type ErrorBody = { detail?: unknown; error_code?: unknown };

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (axios.isCancel(err)) return new ApiError('Cancelled', 0, 'CANCELLED');
  if (axios.isAxiosError(err)) {
    if (err.code === 'ERR_CANCELED') return new ApiError('Cancelled', 0, 'CANCELLED');
    const res = err.response;
    if (!res) return new ApiError('Cannot reach the server. Check your connection.', 0, 'NETWORK_ERROR');
    const body = (res.data ?? {}) as ErrorBody;
    const detail = typeof body.detail === 'string' && body.detail ? body.detail : `Request failed (${res.status})`;
    const code = typeof body.error_code === 'string' ? body.error_code : `HTTP_${res.status}`;
    const ra = Number(res.headers?.['retry-after']);
    return new ApiError(detail, res.status, code, Number.isFinite(ra) && ra > 0 ? ra : null);
  }
  if (err instanceof Error) return new ApiError(err.message, 0, 'UNKNOWN');
  return new ApiError('Something went wrong', 0, 'UNKNOWN');
}
