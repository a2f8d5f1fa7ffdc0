// What each phase of a CA rotation asks of one node's machine config, as a pure function of the config's current CA
// fields: re-applying it is harmless, so a driver that died half way through a phase just runs the phase again.
import type { MachineConfig, PemCertAndKey } from '../../config/index.js';
import { ROTATION_PHASES, hasAcceptedList, phaseIndex } from '../../resources/ca-rotation.js';
import type { RotatableCA, RotationPhase } from '../../resources/ca-rotation.js';

export interface CAFields {
  ca: PemCertAndKey;
  accepted: string[];
}

const same = (a: string, b: string) => a.trim() === b.trim();
const without = (list: readonly string[], pem: string) => list.filter((p) => !same(p, pem));
const withAdded = (list: readonly string[], pem: string) => (list.some((p) => same(p, pem)) ? [...list] : [...list, pem]);

/**
 * The CA fields a node holds once it has reached `phase`:
 * - NewCAAccepted: the new CA joins the accepted list; the issuing CA stays.
 * - NewCAIssuing, LeavesReissued: the new CA issues (its key only where the node held the old key: control planes),
 *   the old one is accepted.
 * - OldCADropped, Done: the new CA issues, the old one is gone.
 */
export function caFieldsAt(phase: RotationPhase, current: CAFields, oldCA: PemCertAndKey, newCA: PemCertAndKey): CAFields {
  const at = phaseIndex(phase);
  if (at < phaseIndex('NewCAAccepted')) return current;
  if (at < phaseIndex('NewCAIssuing')) {
    if (same(current.ca.crt, newCA.crt)) return current;
    return { ca: current.ca, accepted: withAdded(current.accepted, newCA.crt) };
  }
  const ca = { crt: newCA.crt, key: current.ca.key ? newCA.key : '' };
  const rest = without(current.accepted, newCA.crt);
  if (at < phaseIndex('OldCADropped')) return { ca, accepted: withAdded(rest, oldCA.crt) };
  return { ca, accepted: without(rest, oldCA.crt) };
}

/**
 * What a rotation of `kind` asks of a node at `phase`. For etcd and the aggregator (no accepted list in the machine
 * config) `accepted` is the node's ExtraAcceptedCAs, and both CAs stay in it from NewCAAccepted until OldCADropped (the
 * issuing one too, harmlessly): each phase then changes one thing (the list at NewCAAccepted and OldCADropped, the
 * issuing CA at NewCAIssuing) and no write leaves a moment that trusts only one of the two. A config without the CA
 * (a worker's) is left alone.
 */
export function caFieldsFor(kind: RotatableCA, phase: RotationPhase, current: CAFields, oldCA: PemCertAndKey, newCA: PemCertAndKey): CAFields {
  if (hasAcceptedList(kind)) return caFieldsAt(phase, current, oldCA, newCA);
  const at = phaseIndex(phase);
  if (!current.ca.crt || at < phaseIndex('NewCAAccepted')) return current;
  const ca = at >= phaseIndex('NewCAIssuing') ? { crt: newCA.crt, key: current.ca.key ? newCA.key : '' } : current.ca;
  const rest = without(without(current.accepted, oldCA.crt), newCA.crt);
  return { ca, accepted: at < phaseIndex('OldCADropped') ? [...rest, oldCA.crt, newCA.crt] : rest };
}

/**
 * The cross-signed CA certificates a node sends after its apid certificate at `phase` of a Talos API CA rotation: the
 * new CA signed by the old one from NewCAAccepted (before any node issues from the new CA) until OldCADropped.
 */
export function crossSignedAt(phase: RotationPhase, current: readonly string[], crossSigned: string): string[] {
  const at = phaseIndex(phase);
  if (at < phaseIndex('NewCAAccepted')) return [...current];
  return at < phaseIndex('OldCADropped') ? withAdded(current, crossSigned) : without(current, crossSigned);
}

const CA_PATH: Record<'etcd' | 'aggregator', string[]> = { etcd: ['cluster', 'etcd', 'ca'], aggregator: ['cluster', 'aggregatorCA'] };

/**
 * Reads and writes the CA fields a rotation of `kind` touches: machine.ca/acceptedCAs, cluster.ca/acceptedCAs,
 * cluster.etcd.ca or cluster.aggregatorCA; these two have no accepted list in the config: `extra` (the node's
 * ExtraAcceptedCAs) stands in for it, and setCAFields writes only their CA.
 */
export function caFieldsOf(config: MachineConfig, kind: RotatableCA, extra: readonly string[] = []): CAFields {
  if (kind === 'os') return { ca: config.osCA, accepted: config.acceptedCAs };
  if (kind === 'kubernetes') return { ca: config.kubernetesCA ?? { crt: '', key: '' }, accepted: config.kubernetesAcceptedCAs };
  return { ca: config.certAndKey(CA_PATH[kind]) ?? { crt: '', key: '' }, accepted: [...extra] };
}

export function setCAFields(config: MachineConfig, kind: RotatableCA, fields: CAFields): void {
  if (kind === 'os') {
    config.osCA = fields.ca;
    config.acceptedCAs = fields.accepted;
  } else if (kind === 'kubernetes') {
    config.kubernetesCA = fields.ca;
    config.kubernetesAcceptedCAs = fields.accepted;
  } else if (fields.ca.crt) {
    config.setCertAndKey(CA_PATH[kind], fields.ca);
  }
}

export function samePair(a: PemCertAndKey, b: PemCertAndKey): boolean {
  return same(a.crt, b.crt) && a.key.trim() === b.key.trim();
}

export function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((p, i) => same(p, b[i]));
}

/** The phase after `phase` (Done stays Done). */
export function nextPhase(phase: RotationPhase): RotationPhase {
  return ROTATION_PHASES[Math.min(phaseIndex(phase) + 1, ROTATION_PHASES.length - 1)];
}
