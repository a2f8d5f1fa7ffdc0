// `trustctl check`: the node's controllers run years ahead over a copy of its store, reporting the renewal calendar and
// the problems they would meet. Nothing is written to the node's store.
import type { KeyEnvironment } from '../../runtime/encryption/state-key.js';
import { withClientCertificates } from './client-certificates.js';
import type { HeldClientCertificate } from './client-certificates.js';
import type { CheckReport } from './report.js';
import { simulate } from './simulate.js';
import type { SimulationOptions } from './simulate.js';
import { copyStateDir } from './store-copy.js';

export interface CheckOptions extends SimulationOptions {
  /** Client certificates held outside the node (talosconfig contexts). */
  clientCertificates?: readonly HeldClientCertificate[];
  /** Where TRUSTPLANE_STATE_KEY is read to open the store (default: process.env). */
  keyEnv?: KeyEnvironment;
}

/** Checks the node whose store is in `stateDir` (opened read-only, copied, closed). */
export async function checkStateDir(stateDir: string, options: CheckOptions): Promise<CheckReport> {
  const report = await simulate((clock) => copyStateDir(stateDir, clock, options.keyEnv), options);
  return withClientCertificates(report, options.clientCertificates ?? [], options.from.toJSDate());
}

export { DEFAULT_MAX_WAKE_UPS, simulate } from './simulate.js';
export type { SimulationOptions } from './simulate.js';
export { copyIntoMemory, copyStateDir } from './store-copy.js';
export type { StoreCopy } from './store-copy.js';
export { NEW_TALOSCONFIG, clientCertificateFindings, withClientCertificates } from './client-certificates.js';
export type { HeldClientCertificate } from './client-certificates.js';
export type { CertificateCalendar, CheckFinding, CheckReport, CheckSeverity } from './report.js';
