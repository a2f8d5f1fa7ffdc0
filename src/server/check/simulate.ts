// The look ahead: the node's own controllers over a copy of its store, on a manual clock that jumps from one wake-up
// time to the next (the runtime's timer heap says when), so ten years cost a few hundred reconciles, not 3,650 days.
// Each certificate's serial is watched between jumps: a new serial is a renewal at that time.
import { DateTime } from 'luxon';
import type { CaKeys } from '../../config/ca-keys.js';
import { nodeControllers, reusedLeafKeys } from '../../controllers/index.js';
import type { CertificateLifetimes } from '../../controllers/index.js';
import { NODE_ADDRESSES_ID } from '../../controllers/node-addresses-controller.js';
import { CertificateStatuses, NodeAddresses, rotateCaCommand } from '../../resources/index.js';
import type { CertificateStatusSpec, NodeAddressesSpec } from '../../resources/index.js';
import { ManualClock } from '../../runtime/manual-clock.js';
import type { Resource } from '../../runtime/resource.js';
import { Runtime } from '../../runtime/runtime.js';
import type { StoreCopy } from './store-copy.js';
import { sortFindings } from './report.js';
import { keyDisallowedFrom } from './key-policy.js';
import { estimatedCalendar, isShortLived, simulatedLifetimes } from './short-lived.js';
import { storedLifetimes } from './stored-lifetimes.js';
import type { CertificateCalendar, CheckFinding, CheckReport } from './report.js';

export interface SimulationOptions {
  from: DateTime;
  years: number;
  /** The lifetimes the node is served with (serve's --*-lifetime flags); by default those its certificates were asked with. */
  lifetimes?: Partial<CertificateLifetimes>;
  /** A guard against a controller that wakes itself in a loop; the default is far above a healthy ten years. */
  maxWakeUps?: number;
  /** Where the node's CAs sign (serve's): CA keys in a PKCS#11 token sign there in the simulation too. */
  caKeys?: CaKeys;
}

export const DEFAULT_MAX_WAKE_UPS = 100_000;

type Status = Resource<CertificateStatusSpec>;

/** Runs the simulation over `copy` (which it closes) and returns the calendar and the findings. */
export async function simulate(open: (clock: ManualClock) => Promise<StoreCopy>, options: SimulationOptions): Promise<CheckReport> {
  const clock = new ManualClock(options.from.toUTC());
  const to = clock.now().plus({ years: options.years });
  const copy = await open(clock);
  const runtime = new Runtime({ state: copy.state, registry: copy.registry, clock, logger: () => {} });
  try {
    // The addresses the node published, not this machine's: the check may run elsewhere (a laptop, over the API).
    const addresses = await copy.state.find<NodeAddressesSpec>({ namespace: NodeAddresses.namespace, type: NodeAddresses.type, id: NODE_ADDRESSES_ID });
    // Read before the controllers run: what the node holds now, with the lifetimes it was served with.
    const held = await statuses(copy);
    const controllers = nodeControllers({
      encryptedAtRest: copy.encryptedAtRest,
      ...(addresses ? { addresses: { addresses: addresses.spec.addresses, hostname: addresses.spec.hostname } } : {}),
      lifetimes: simulatedLifetimes(options.lifetimes ?? (await storedLifetimes(copy.state))),
      ...(options.caKeys ? { caKeys: options.caKeys } : {}),
      // Every certificate the look-ahead issues is thrown away: one key per type serves them all.
      leafKeys: reusedLeafKeys(),
    });
    for (const c of controllers) runtime.register(c);
    await runtime.start();
    await runtime.settled();
    const report = await run(clock, copy, to, options.maxWakeUps ?? DEFAULT_MAX_WAKE_UPS);
    const until = Date.parse(report.simulatedUntil);
    const estimated = new Map(held.filter((s) => isShortLived(s.spec)).map((s) => [s.metadata.id, estimatedCalendar(s.metadata.id, s.spec, until)]));
    return { ...report, certificates: report.certificates.map((row) => estimated.get(row.id) ?? row) };
  } finally {
    await runtime.stop();
    await copy.state.close();
  }
}

async function statuses(copy: StoreCopy): Promise<Status[]> {
  return copy.state.list<CertificateStatusSpec>({ namespace: CertificateStatuses.namespace, type: CertificateStatuses.type });
}

async function run(clock: ManualClock, copy: StoreCopy, to: DateTime, maxWakeUps: number): Promise<CheckReport> {
  const from = clock.now();
  const calendar = new Map<string, CertificateCalendar & { serial: string }>();
  const findings: CheckFinding[] = [];
  const reported = new Set<string>();
  const once = (key: string, f: CheckFinding) => {
    if (reported.has(key)) return;
    reported.add(key);
    findings.push(f);
  };
  const initial = await statuses(copy);
  for (const s of initial) {
    calendar.set(s.metadata.id, { id: s.metadata.id, kind: s.spec.kind, ca: s.spec.issuerCA, renewals: 0, serial: s.spec.serial, ...(s.spec.notAfter ? { notAfter: s.spec.notAfter } : {}) });
  }
  // CAs are not renewed: one that ends in the window ends everything it signs. The simulation stops a day before the
  // first such end (its leaves, cut to the CA's end, renew ever more often as it nears); beyond it every renewal would
  // fail until the CA is rotated.
  let stopAt = to;
  for (const ca of initial.filter((s) => s.spec.kind === 'ca' && s.spec.notAfter)) {
    const end = DateTime.fromISO(ca.spec.notAfter!, { zone: 'utc' });
    if (end >= to) continue;
    const signs = initial.filter((s) => s.spec.kind === 'leaf' && s.spec.issuerCA === ca.spec.issuerCA).length;
    const past = end <= from;
    once(`ca/${ca.metadata.id}`, {
      severity: 'critical',
      code: 'CAExpires',
      at: end.toISO()!,
      subject: ca.metadata.id,
      message: `the ${ca.spec.issuerCA} CA ${past ? 'ended' : 'ends'} at ${end.toISO()}; it is not renewed, and the ${signs} certificate(s) it signs here cannot be renewed past it`,
      fix: rotateCaCommand(ca.spec.issuerCA),
    });
    if (end.minus({ days: 1 }) < stopAt) stopAt = DateTime.max(from, end.minus({ days: 1 }));
  }
  for (const f of keyPolicyFindings(initial, from.toMillis(), stopAt.toMillis())) once(`key/${f.subject}`, f);
  const caEnds = new Map(initial.filter((s) => s.spec.kind === 'ca' && s.spec.notAfter).map((s) => [s.spec.issuerCA, Date.parse(s.spec.notAfter!)]));
  // Rotating the CA fixes what its end breaks; anything else the node's own status explains.
  const fixFor = (s: Status, at: number) =>
    (caEnds.get(s.spec.issuerCA) ?? Infinity) <= at ? rotateCaCommand(s.spec.issuerCA) : `trustctl get certificatestatus ${s.metadata.id} (why it is not renewed)`;
  const observe = (list: Status[]) => {
    const now = clock.now();
    for (const s of list) {
      const row = calendar.get(s.metadata.id);
      if (!row) {
        calendar.set(s.metadata.id, { id: s.metadata.id, kind: s.spec.kind, ca: s.spec.issuerCA, renewals: 0, serial: s.spec.serial, ...(s.spec.notAfter ? { notAfter: s.spec.notAfter } : {}) });
      } else if (row.serial !== s.spec.serial) {
        row.serial = s.spec.serial;
        row.renewals++;
        row.firstRenewal ??= now.toISO()!;
        row.lastRenewal = now.toISO()!;
        if (s.spec.notAfter) row.notAfter = s.spec.notAfter;
      }
      if (s.spec.kind === 'leaf' && s.spec.notAfter && Date.parse(s.spec.notAfter) <= now.toMillis()) {
        once(`expired/${s.metadata.id}/${s.spec.serial}`, {
          severity: 'critical',
          code: 'ExpiredInUse',
          at: s.spec.notAfter,
          subject: s.metadata.id,
          message: `would still be in use after its notAfter (${s.spec.notAfter})`,
          fix: fixFor(s, now.toMillis()),
        });
      }
      if (s.spec.failures > 0) {
        once(`fails/${s.metadata.id}`, {
          severity: 'critical',
          code: 'RenewalFails',
          at: now.toISO()!,
          subject: s.metadata.id,
          message: `its renewal would fail: ${s.spec.lastFailure ?? 'no reason recorded'}`,
          fix: fixFor(s, now.toMillis()),
        });
      }
    }
  };
  observe(initial);
  let wakeUps = 0;
  while (wakeUps < maxWakeUps) {
    const at = await clock.advanceToNext(stopAt);
    if (!at) break;
    wakeUps++;
    observe(await statuses(copy));
  }
  if (wakeUps >= maxWakeUps) {
    findings.push({
      severity: 'warning',
      code: 'SimulationStopped',
      at: clock.now().toISO()!,
      subject: 'check',
      message: `the controllers woke ${wakeUps} times by ${clock.now().toISO()}; the rest of the window was not simulated (a renewal retrying in a loop?)`,
      fix: 'trustctl get certificatestatus (look for failures)',
    });
  } else if (stopAt > clock.now()) {
    await clock.set(stopAt);
    observe(await statuses(copy));
  }
  const certificates = [...calendar.values()].map(({ serial: _serial, ...row }) => row).sort((a, b) => a.id.localeCompare(b.id));
  return { from: from.toISO()!, to: to.toISO()!, simulatedUntil: clock.now().toISO()!, wakeUps, certificates, findings: sortFindings(findings) };
}

/**
 * A CA whose key type may no longer sign by some date in the window: every certificate it signs from then on (and
 * every leaf key, which follows the CA's key type) is one policy refuses. Its renewals would fail there.
 */
function keyPolicyFindings(initial: Status[], from: number, until: number): CheckFinding[] {
  return initial
    .filter((s) => s.spec.kind === 'ca')
    .flatMap((ca): CheckFinding[] => {
      const disallowed = keyDisallowedFrom(ca.spec.keyAlgorithm, ca.spec.keySize);
      if (disallowed === undefined || disallowed > until) return [];
      const at = new Date(Math.max(from, disallowed)).toISOString();
      const leaves = initial.filter((s) => s.spec.kind === 'leaf' && s.spec.issuerCA === ca.spec.issuerCA).length;
      const when = disallowed <= from ? 'is already disallowed' : `is disallowed from ${at}`;
      return [
        {
          severity: 'critical',
          code: 'KeyNotAllowed',
          at,
          subject: ca.metadata.id,
          message:
            `the ${ca.spec.issuerCA} CA has an ${ca.spec.keyAlgorithm} ${ca.spec.keySize}-bit key, which ${when} for signing (NIST SP 800-57: RSA under 3072 bits gives 112-bit security, allowed through 2030); ` +
            `the ${leaves} certificate(s) it signs here would renew with a key policy refuses`,
          fix: `${rotateCaCommand(ca.spec.issuerCA)} to an ECDSA P-256 (or RSA 3072+) CA before then`,
        },
      ];
    });
}
