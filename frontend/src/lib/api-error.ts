import axios from 'axios';

// ApiError is every failure the UI shows: the server's
// {"detail", "error_code"} body when there is one, a network or abort
// failure otherwise.
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly retryAfter: number | null;
  // The request field a VALIDATION_ERROR is about, when the server names it.
  readonly field: string | null;

  constructor(message: string, status: number, code: string, retryAfter: number | null = null, field: string | null = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
    this.field = field;
  }
}

type ErrorBody = { detail?: unknown; error_code?: unknown; field?: unknown };

// What the UI says for the server's error codes whose detail is written for
// API clients rather than people. Keyed on error_code, not on the status:
// the same status means different things (413 FILE_TOO_LARGE is one file,
// 413 UPLOAD_QUOTA_EXCEEDED the uploads in progress together).
const CODE_MESSAGES: Record<string, string> = {
  UPLOAD_COMPLETING: 'The server is finishing this upload. Try again in a few seconds.',
  TOO_MANY_UPLOADS: 'You have too many uploads in progress. Finish or cancel one, then try again.',
  UPLOAD_QUOTA_EXCEEDED: 'Your uploads in progress add up to more than you may upload at once. Finish or cancel one first.',
  PRECONDITION_FAILED: 'The file has changed on the server since this page loaded it. Reload the page and try again.',
  HEADERS_TOO_LARGE:
    "The request's headers were too large for the server. Log out and in again, or clear this site's cookies, then try again.",
  // The login queue is full (BCRYPT_QUEUE_MAX), or the server is not ready.
  SERVICE_UNAVAILABLE: 'The server is busy. Try again in a few seconds.',
};

// For the API's answers without our JSON body (a gateway or proxy in front
// of it answered), by status. Not for other servers (the storage tier's
// answers to part uploads keep "Request failed (status)").
const STATUS_MESSAGES: Record<number, string> = {
  412: CODE_MESSAGES.PRECONDITION_FAILED,
  431: CODE_MESSAGES.HEADERS_TOO_LARGE,
  503: CODE_MESSAGES.SERVICE_UNAVAILABLE,
};

// A busy server asking for more than a few seconds says how long.
function busyMessage(retryAfter: number | null): string {
  return retryAfter !== null && retryAfter > 10
    ? `The server is busy. Try again in ${retryAfter} seconds.`
    : CODE_MESSAGES.SERVICE_UNAVAILABLE;
}

// toApiError turns any failure into an ApiError. fromApi: err is an answer
// of our API (the client's interceptor), so a bare status gets a message too.
export function toApiError(err: unknown, { fromApi = false }: { fromApi?: boolean } = {}): ApiError {
  if (err instanceof ApiError) return err;
  if (axios.isCancel(err)) return new ApiError('Cancelled', 0, 'CANCELLED');
  if (axios.isAxiosError(err)) {
    if (err.code === 'ERR_CANCELED') return new ApiError('Cancelled', 0, 'CANCELLED');
    const res = err.response;
    if (!res) return new ApiError('Cannot reach the server. Check your connection.', 0, 'NETWORK_ERROR');
    const body = (res.data ?? {}) as ErrorBody;
    const hasCode = typeof body.error_code === 'string' && body.error_code !== '';
    const code = hasCode ? (body.error_code as string) : `HTTP_${res.status}`;
    const ra = Number(res.headers?.['retry-after']);
    const retryAfter = Number.isFinite(ra) && ra > 0 ? ra : null;
    const bare = !hasCode && fromApi ? STATUS_MESSAGES[res.status] : undefined;
    const sent = typeof body.detail === 'string' && body.detail ? body.detail : undefined;
    let detail = CODE_MESSAGES[code] ?? sent ?? bare ?? `Request failed (${res.status})`;
    if (detail === CODE_MESSAGES.SERVICE_UNAVAILABLE) detail = busyMessage(retryAfter);
    const field = typeof body.field === 'string' && body.field ? body.field : null;
    return new ApiError(detail, res.status, code, retryAfter, field);
  }
  if (err instanceof Error) return new ApiError(err.message, 0, 'UNKNOWN');
  return new ApiError('Something went wrong', 0, 'UNKNOWN');
}
