// Which certificates a config change would make the controllers re-issue, and why, without issuing anything: the old
// and new configs go through the same plan functions the controllers use, and the plans are compared the way the
// re-issue policy compares a held certificate with what is wanted (issuer first, then the request).
import type { MachineConfig } from '../../config/machine-config.js';
import type { CaName } from '../../resources/common.js';
import type { NodeAddressesSpec } from '../../resources/node-addresses.js';
import type { CertificateLifetimes } from '../lifetimes.js';
import { DEFAULT_LIFETIMES } from '../lifetimes.js';
import { requestDifferences } from '../policy/same-request.js';
import { issuancePlan } from './issuance-plan.js';
import type { IssuancePlan, IssuedSetPlan } from './issuance-plan.js';

export type ImpactReason = 'DoesNotExist' | 'IncorrectIssuer' | 'RequestChanged' | 'Removed';

export interface CertificateChange {
  name: string;
  reason: ImpactReason;
  /** For RequestChanged: `SAN +10.0.0.5`, `CN a -> b`, ...; for IncorrectIssuer: which CA. */
  details: string[];
}

export interface IssuedSetImpact {
  type: string;
  changes: CertificateChange[];
  /** CAs trusted by the set that would be added or dropped (a bundle update, no re-issue). */
  trustAdded: number;
  trustRemoved: number;
  /** Kubeconfigs whose server would change: `controller-manager: https://127.0.0.1:6443 -> https://127.0.0.1:7443`. */
  kubeconfigs: string[];
}

export interface CaChange {
  ca: CaName;
  change: 'changed' | 'added' | 'removed';
}

export interface CertificateImpact {
  caChanges: CaChange[];
  sets: IssuedSetImpact[];
}

export const CA_LABELS: Record<CaName, string> = { os: 'OS', etcd: 'etcd', kubernetes: 'Kubernetes', aggregator: 'aggregator' };

/** `before` undefined: nothing stored yet, so everything would be issued. */
export function certificateImpact(
  before: MachineConfig | undefined,
  after: MachineConfig,
  node: NodeAddressesSpec,
  lifetimes: CertificateLifetimes = DEFAULT_LIFETIMES,
): CertificateImpact {
  const old: IssuancePlan = before ? issuancePlan(before, node, lifetimes) : { cas: {}, sets: [] };
  const now = issuancePlan(after, node, lifetimes);
  const caChanges = (Object.keys(CA_LABELS) as CaName[]).flatMap((ca): CaChange[] => {
    const [a, b] = [old.cas[ca], now.cas[ca]];
    if (a === b) return [];
    return [{ ca, change: !a ? 'added' : !b ? 'removed' : 'changed' }];
  });
  const types = [...new Set([...old.sets, ...now.sets].map((s) => s.type))];
  const sets = types
    .map((type) => compareSets(old.sets.find((s) => s.type === type), now.sets.find((s) => s.type === type), old, now, type))
    .filter((s) => s.changes.length > 0 || s.trustAdded > 0 || s.trustRemoved > 0 || s.kubeconfigs.length > 0);
  return { caChanges, sets };
}

function compareSets(a: IssuedSetPlan | undefined, b: IssuedSetPlan | undefined, old: IssuancePlan, now: IssuancePlan, type: string): IssuedSetImpact {
  const changes: CertificateChange[] = [];
  for (const want of b?.certificates ?? []) {
    const had = a?.certificates.find((c) => c.name === want.name);
    const issuer = issuerChange(a, b!, old, now, had?.issuer ?? want.issuer);
    if (!had) changes.push({ name: want.name, reason: 'DoesNotExist', details: [] });
    else if (issuer) changes.push({ name: want.name, reason: 'IncorrectIssuer', details: [issuer] });
    else {
      const details = requestDifferences(had.request, want.request);
      if (details.length) changes.push({ name: want.name, reason: 'RequestChanged', details });
    }
  }
  for (const had of a?.certificates ?? []) {
    if (!b?.certificates.some((c) => c.name === had.name)) changes.push({ name: had.name, reason: 'Removed', details: [] });
  }
  const trustA = a?.acceptedCAs ?? [];
  const trustB = b?.acceptedCAs ?? [];
  return {
    type,
    changes,
    trustAdded: trustB.filter((c) => !trustA.includes(c)).length,
    trustRemoved: trustA.filter((c) => !trustB.includes(c)).length,
    kubeconfigs: kubeconfigChanges(a?.kubeconfigServers, b?.kubeconfigServers),
  };
}

function kubeconfigChanges(a: Record<string, string> | undefined, b: Record<string, string> | undefined): string[] {
  if (!a || !b) return [];
  return Object.keys(b)
    .filter((name) => a[name] !== undefined && a[name] !== b[name])
    .map((name) => `${name}: ${a[name]} -> ${b[name]}`);
}

/** Why a held certificate would no longer do for its issuer, or undefined when it still would. */
function issuerChange(a: IssuedSetPlan | undefined, b: IssuedSetPlan, old: IssuancePlan, now: IssuancePlan, issuer: CaName): string | undefined {
  if (b.fromTrustd) {
    const signer = a?.fromTrustd ? old.trustdCA : old.cas.os;
    return signer && !b.acceptedCAs.includes(signer) ? 'issued by an OS CA that would no longer be accepted' : undefined;
  }
  const before = a?.fromTrustd ? old.trustdCA : old.cas[issuer];
  return before !== now.cas[issuer] ? `${CA_LABELS[issuer]} CA changed` : undefined;
}

/**
 * One line per reason, as `patch --dry-run` prints them: `OS CA changed: every OS leaf IncorrectIssuer`,
 * `ApiCertificates: SAN +10.0.0.5`. Certificates only, never key material.
 */
export function formatCertificateImpact(impact: CertificateImpact): string[] {
  const lines: string[] = [];
  for (const { ca, change } of impact.caChanges) {
    const label = CA_LABELS[ca];
    if (change === 'changed') lines.push(`${label} CA changed: every ${label} leaf IncorrectIssuer`);
    else if (change === 'added') lines.push(`${label} CA added: its leaves would be issued (DoesNotExist)`);
    else lines.push(`${label} CA removed: its leaves would be removed`);
  }
  const caLines = new Set(impact.caChanges.map((c) => `${CA_LABELS[c.ca]} CA changed`));
  for (const set of impact.sets) {
    const misissued = set.changes.filter((c) => c.reason === 'IncorrectIssuer' && !c.details.every((d) => caLines.has(d)));
    for (const c of misissued) lines.push(`${set.type}: ${c.name} IncorrectIssuer (${c.details.join(', ')})`);
    const requested = unique(set.changes.filter((c) => c.reason === 'RequestChanged').flatMap((c) => c.details));
    if (requested.length) lines.push(`${set.type}: ${requested.join(', ')}`);
    const created = set.changes.filter((c) => c.reason === 'DoesNotExist').map((c) => c.name);
    if (created.length) lines.push(`${set.type}: new ${created.join(', ')} (DoesNotExist)`);
    const removed = set.changes.filter((c) => c.reason === 'Removed').map((c) => c.name);
    if (removed.length) lines.push(`${set.type}: ${removed.join(', ')} would be removed`);
    if (set.trustAdded || set.trustRemoved) {
      const delta = [set.trustAdded ? `+${set.trustAdded}` : '', set.trustRemoved ? `-${set.trustRemoved}` : ''].filter(Boolean).join(' ');
      lines.push(`${set.type}: accepted CAs ${delta} (trust bundle only, no re-issue)`);
    }
    if (set.kubeconfigs.length) lines.push(`${set.type}: kubeconfig server ${set.kubeconfigs.join(', ')} (kubeconfig only, no re-issue)`);
  }
  return lines;
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}
