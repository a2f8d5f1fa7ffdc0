// A refusal trustd answers with: the HTTP status and the message the requester sees (never a secret).
export type TrustdStatus = 400 | 401 | 403 | 404 | 405 | 413 | 429 | 503;

export class TrustdError extends Error {
  constructor(
    readonly status: TrustdStatus,
    message: string,
  ) {
    super(message);
    this.name = 'TrustdError';
  }
}
