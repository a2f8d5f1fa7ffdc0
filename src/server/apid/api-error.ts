// An error an API call answers with: an HTTP status and a message for the person, sent as `{"error": message}`.
import { ConfigError, MultiError, PatchedConfigInvalid } from '../../config/index.js';
import { isStateError } from '../../runtime/errors.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Maps store and validation errors to statuses; anything unexpected is a 500 with its message (never a secret). */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (isStateError(err, 'NotFound')) return new ApiError(404, err.message);
  if (isStateError(err, 'UnsupportedType')) return new ApiError(404, err.message);
  if (isStateError(err, 'InvalidBookmark')) return new ApiError(410, err.message);
  if (isStateError(err, 'Validation')) return new ApiError(400, err.message);
  if (isStateError(err, 'Conflict')) return new ApiError(409, err.message);
  if (err instanceof ConfigError || err instanceof MultiError || err instanceof PatchedConfigInvalid) return new ApiError(400, err.message);
  return new ApiError(500, err instanceof Error ? err.message : String(err));
}
