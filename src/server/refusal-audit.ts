// Refused calls and CSRs recorded in the audit trail at a bounded rate: a flood of refusals (a scanner, a client in a
// retry loop) must not crowd the operations that matter out of a trail with a size limit. Refusals over the rate are
// counted, and the count rides on the next refusal that is recorded (`suppressed`).
import type { AuditSink } from '../controllers/audit/index.js';
import type { AuditDetails } from '../resources/audit-records.js';
import type { Clock } from '../runtime/clock.js';
import type { RateLimitOptions } from './rate-limit.js';
import { RefusalRate } from './refusal-rate.js';

export class RefusalAudit {
  private readonly rate: RefusalRate;

  constructor(
    private readonly audit: AuditSink,
    clock: Clock,
    /** Names the service in each record, e.g. `apid`. */
    private readonly service: string,
    rate?: RateLimitOptions,
  ) {
    this.rate = new RefusalRate(clock, service, rate);
  }

  /** Records who was refused, from where and why; not awaited by the caller (the refusal is answered at once). */
  refused(actor: string, source: string | undefined, details: AuditDetails): void {
    const suppressed = this.rate.pass();
    if (suppressed === undefined) return;
    void this.audit.record({ actor, ...(source ? { source } : {}), action: 'refused', details: { service: this.service, ...details, ...(suppressed ? { suppressed } : {}) } });
  }
}
