// Refused requests logged at a bounded rate: a flood of bad requests (a scanner, a client retrying in a loop) must not
// flood the log or the disk. One token bucket per service; the refusals it drops are counted and reported in one line
// (`... refusals not logged`, with `suppressed: K`) just before the next refusal that is logged.
import type { Clock } from '../runtime/clock.js';
import type { RuntimeLogger } from '../runtime/runtime-context.js';
import { RateLimiter } from './rate-limit.js';
import type { RateLimitOptions } from './rate-limit.js';

/** Default: 10 lines at once, then one a second. */
export const DEFAULT_REFUSAL_LOG_RATE: Readonly<RateLimitOptions> = { perSecond: 1, burst: 10 };

export class RefusalLog {
  private readonly bucket: RateLimiter;
  private suppressed = 0;

  constructor(
    private readonly log: RuntimeLogger,
    clock: Clock,
    /** Names the service in the suppressed line, e.g. `apid`. */
    private readonly service: string,
    rate: RateLimitOptions = DEFAULT_REFUSAL_LOG_RATE,
  ) {
    this.bucket = new RateLimiter({ ...rate, maxSources: 1 }, clock);
  }

  /** `fields` may be a function: it is called only for a refusal that is logged, so a flood costs no formatting. */
  refused(message: string, fields: Record<string, unknown> | (() => Record<string, unknown>)): void {
    if (!this.bucket.take(this.service)) {
      this.suppressed++;
      return;
    }
    if (this.suppressed > 0) {
      this.log(`${this.service} refusals not logged`, { suppressed: this.suppressed });
      this.suppressed = 0;
    }
    this.log(message, typeof fields === 'function' ? fields() : fields);
  }
}
