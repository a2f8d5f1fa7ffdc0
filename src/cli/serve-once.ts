// `serve --once`: wait until the node has done everything it can do now, giving a failing controller a few retries,
// then say in one line what the node holds.
import type { CertificateStatusSpec } from '../resources/certificate-status.js';
import { CertificateStatuses } from '../resources/certificate-status.js';
import type { SecurityStatusSpec } from '../resources/security-status.js';
import { SECURITY_STATUS_ID, SecurityStatuses } from '../resources/security-status.js';
import type { ControllerRuntimeStatus, Runtime } from '../runtime/runtime.js';
import type { State } from '../runtime/state.js';

export interface OnceLimits {
  /** A controller failing this many times in a row is reported as failing. */
  maxFailures: number;
  /** Give up waiting for retries after this long (ms) and report whoever is still in backoff. */
  boundMs: number;
}

export const DEFAULT_ONCE_LIMITS: OnceLimits = { maxFailures: 3, boundMs: 30_000 };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Resolves with the controllers that keep failing ([] when all are idle). settled() does not wait for a controller
 * in backoff, so each failing controller gets its retries here, until it has failed maxFailures times in a row (or the
 * time bound passes); one that recovers meanwhile is not reported.
 */
export async function runUntilSettled(runtime: Runtime, limits: OnceLimits = DEFAULT_ONCE_LIMITS): Promise<ControllerRuntimeStatus[]> {
  const deadline = Date.now() + limits.boundMs;
  for (;;) {
    await runtime.settled();
    if (runtime.stopped) return [];
    const backoff = runtime.status().filter((s) => s.state === 'backoff');
    if (backoff.length === 0) return [];
    const retrying = backoff.filter((s) => s.failures < limits.maxFailures);
    if (retrying.length === 0 || Date.now() >= deadline) return backoff;
    const retry = Math.min(...retrying.map((s) => (s.nextRetry ? Date.parse(s.nextRetry) : Date.now())));
    await sleep(Math.min(Math.max(retry - Date.now(), 0) + 5, Math.max(deadline - Date.now(), 0)));
  }
}

/** `node settled: 12 controllers idle; 19 certificates (19 Valid); security: healthy` */
export async function summarize(state: State, runtime: Runtime): Promise<string> {
  const controllers = runtime.status();
  const idle = controllers.filter((s) => s.state === 'idle').length;
  const statuses = await state.list<CertificateStatusSpec>({ namespace: CertificateStatuses.namespace, type: CertificateStatuses.type });
  const byState = new Map<string, number>();
  for (const s of statuses) byState.set(s.spec.state, (byState.get(s.spec.state) ?? 0) + 1);
  const states = [...byState].map(([name, n]) => `${n} ${name}`).join(', ');
  const security = await state.find<SecurityStatusSpec>({ namespace: SecurityStatuses.namespace, type: SecurityStatuses.type, id: SECURITY_STATUS_ID });
  const health = !security
    ? 'not reported'
    : security.spec.healthy
      ? 'healthy'
      : `not healthy (${security.spec.findings.length} finding(s): trustctl get securitystatus)`;
  return `node settled: ${idle}/${controllers.length} controllers idle; ${statuses.length} certificates${states ? ` (${states})` : ''}; security: ${health}`;
}
