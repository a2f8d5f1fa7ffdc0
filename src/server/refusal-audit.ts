// Refused calls and CSRs recorded in the audit trail at a bounded rate: a flood of refusals (a scanner, a client in a
// retry loop) must not crowd the operations that matter out of a trail with a size limit. Refusals over the rate are
// counted, and the count rides on the next refusal that is recorded (`suppressed`).
import type { AuditSink } from '../controllers/audit/index.js';
import type { AuditDetails } from '../resources/audit-records.js';
import type { Clock } from '../runtime/clock.js';
import { RateLimiter } from './rate-limit.js';
import type { RateLimitOptions } from './rate-limit.js';
import { DEFAULT_REFUSAL_LOG_RATE } from './refusal-log.js';

export class RefusalAudit {
  private readonly bucket: RateLimiter;
  private suppressed = 0;

  constructor(
    private readonly audit: AuditSink,
    clock: Clock,
    /** Names the service in each record, e.g. `apid`. */
    private readonly service: string,
    rate: RateLimitOptions = DEFAULT_REFUSAL_LOG_RATE,
  ) {
    this.bucket = new RateLimiter({ ...rate, maxSources: 1 }, clock);
  }

  /** Records who was refused, from where and why; not awaited by the caller (the refusal is answered at once). */
  refused(actor: string, source: string | undefined, details: AuditDetails): void {
    if (!this.bucket.take(this.service)) {
      this.suppressed++;
      return;
    }
    const suppressed = this.suppressed;
    this.suppressed = 0;
    void this.audit.record({ actor, ...(source ? { source } : {}), action: 'refused', details: { service: this.service, ...details, ...(suppressed ? { suppressed } : {}) } });
  }
}
