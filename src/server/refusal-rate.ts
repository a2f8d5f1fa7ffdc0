// The bound on how many refusals a service reports, shared by its log lines and its audit records: one token bucket
// per service, and a count of the refusals it dropped, which the next one let through carries.
import type { Clock } from '../runtime/clock.js';
import { RateLimiter } from './rate-limit.js';
import type { RateLimitOptions } from './rate-limit.js';

/** Default: 10 at once, then one a second. */
export const DEFAULT_REFUSAL_LOG_RATE: Readonly<RateLimitOptions> = { perSecond: 1, burst: 10 };

export class RefusalRate {
  private readonly bucket: RateLimiter;
  private suppressed = 0;

  constructor(
    clock: Clock,
    private readonly service: string,
    rate: RateLimitOptions = DEFAULT_REFUSAL_LOG_RATE,
  ) {
    this.bucket = new RateLimiter({ ...rate, maxSources: 1 }, clock);
  }

  /** Undefined when this refusal is over the rate (it is counted); else how many were dropped since the last one let through. */
  pass(): number | undefined {
    if (!this.bucket.take(this.service)) {
      this.suppressed++;
      return undefined;
    }
    const dropped = this.suppressed;
    this.suppressed = 0;
    return dropped;
  }
}
