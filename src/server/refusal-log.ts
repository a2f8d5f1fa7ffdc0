// Refused requests logged at a bounded rate: a flood of bad requests (a scanner, a client retrying in a loop) must not
// flood the log or the disk. The refusals dropped are counted and reported in one line (`... refusals not logged`,
// with `suppressed: K`) just before the next refusal that is logged.
import type { Clock } from '../runtime/clock.js';
import type { RuntimeLogger } from '../runtime/runtime-context.js';
import type { RateLimitOptions } from './rate-limit.js';
import { RefusalRate } from './refusal-rate.js';

export { DEFAULT_REFUSAL_LOG_RATE } from './refusal-rate.js';

export class RefusalLog {
  private readonly rate: RefusalRate;

  constructor(
    private readonly log: RuntimeLogger,
    clock: Clock,
    /** Names the service in the suppressed line, e.g. `apid`. */
    private readonly service: string,
    rate?: RateLimitOptions,
  ) {
    this.rate = new RefusalRate(clock, service, rate);
  }

  /** `fields` may be a function: it is called only for a refusal that is logged, so a flood costs no formatting. */
  refused(message: string, fields: Record<string, unknown> | (() => Record<string, unknown>)): void {
    const suppressed = this.rate.pass();
    if (suppressed === undefined) return;
    if (suppressed > 0) this.log(`${this.service} refusals not logged`, { suppressed });
    this.log(message, typeof fields === 'function' ? fields() : fields);
  }
}
