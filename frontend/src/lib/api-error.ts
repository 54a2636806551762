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

// What the UI says for the server's error codes whose detail is written for
// API clients rather than people. Keyed on error_code, not on the status:
// the same status means different things (413 FILE_TOO_LARGE is one file,
// 413 UPLOAD_QUOTA_EXCEEDED the uploads in progress together).
const CODE_MESSAGES: Record<string, string> = {
  FILE_BUSY: 'This file is being moved to long-term storage. Try again in a few seconds.',
  UPLOAD_COMPLETING: 'The server is finishing this upload. Try again in a few seconds.',
  TOO_MANY_UPLOADS: 'You have too many uploads in progress. Finish or cancel one, then try again.',
  UPLOAD_QUOTA_EXCEEDED: 'Your uploads in progress add up to more than you may upload at once. Finish or cancel one first.',
};

// For answers without our JSON body (a gateway or proxy in front of the
// API answered), by status.
const STATUS_MESSAGES: Record<number, string> = {};

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (axios.isCancel(err)) return new ApiError('Cancelled', 0, 'CANCELLED');
  if (axios.isAxiosError(err)) {
    if (err.code === 'ERR_CANCELED') return new ApiError('Cancelled', 0, 'CANCELLED');
    const res = err.response;
    if (!res) return new ApiError('Cannot reach the server. Check your connection.', 0, 'NETWORK_ERROR');
    const body = (res.data ?? {}) as ErrorBody;
    const hasCode = typeof body.error_code === 'string' && body.error_code !== '';
    const code = hasCode ? (body.error_code as string) : `HTTP_${res.status}`;
    const detail =
      CODE_MESSAGES[code] ??
      (typeof body.detail === 'string' && body.detail ? body.detail : (!hasCode && STATUS_MESSAGES[res.status]) || `Request failed (${res.status})`);
    const ra = Number(res.headers?.['retry-after']);
    return new ApiError(detail, res.status, code, Number.isFinite(ra) && ra > 0 ? ra : null);
  }
  if (err instanceof Error) return new ApiError(err.message, 0, 'UNKNOWN');
  return new ApiError('Something went wrong', 0, 'UNKNOWN');
}
