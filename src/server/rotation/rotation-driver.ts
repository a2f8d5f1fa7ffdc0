// The CA rotation driver: a loop beside the runtime on control-plane nodes (controllers never open sockets) that moves
// each CARotation through its phases. The resource is its only memory: every step re-reads it, does work that is safe
// to repeat (write the config a phase asks for, wait until the node's controllers follow it), and records the node's
// or the rotation's new phase before going on. A driver killed at any point and started again continues where the
// record says and finishes.
import type { CaKeys } from '../../config/ca-keys.js';
import { memoryCaKeys } from '../../controllers/certificate-cache.js';
import { isPkcs11Uri } from '../../pki/pkcs11/pkcs11-uri.js';
import type { AuditSink } from '../../controllers/audit/index.js';
import type { DateTime } from 'luxon';
import { isDeepStrictEqual } from 'node:util';
import type { Subscription } from 'rxjs';
import { issueClientCertificate, MachineConfig } from '../../config/index.js';
import type { PemCertAndKey } from '../../config/index.js';
import { CARotations, CARotationSecrets, ROTATION_DRIVER_OWNER, hasAcceptedList, phaseIndex } from '../../resources/ca-rotation.js';
import type { CARotationSecretsSpec, CARotationSpec, RotationNode, RotationPhase } from '../../resources/ca-rotation.js';
import { CROSS_SIGNED_CAS_ID, CrossSignedCAs } from '../../resources/cross-signed-cas.js';
import { ExtraAcceptedCAs } from '../../resources/extra-accepted-cas.js';
import { OSRootSecrets } from '../../resources/root-secrets.js';
import type { OSRootSecretsSpec } from '../../resources/root-secrets.js';
import { backoffDelay } from '../../runtime/backoff.js';
import type { BackoffPolicy } from '../../runtime/backoff.js';
import type { Clock } from '../../runtime/clock.js';
import { systemClock } from '../../runtime/clock.js';
import { CoalescingLoop } from '../../runtime/coalescing-loop.js';
import type { Pointer, Resource } from '../../runtime/resource.js';
import type { RuntimeLogger } from '../../runtime/runtime-context.js';
import type { State } from '../../runtime/state.js';
import { paths } from '../apid/api-paths.js';
import { tlsPair } from '../apid/tls-material.js';
import { checkConnectivity } from './connectivity.js';
import { callNode } from './node-client.js';
import type { NodeCredentials } from './node-client.js';
import { nodeLag } from './node-progress.js';
import { caFieldsFor, caFieldsOf, crossSignedAt, nextPhase, samePair, sameList, setCAFields } from './rotation-plan.js';

/** How the driver signs its audit records. */
export const ROTATION_DRIVER_ACTOR = 'rotation-driver';

/**
 * Between the attempts at a failing step. What the driver waits for is mostly someone's action (a node back up, etcd
 * members restarted), so it looks again within seconds rather than leave a fixed rotation idle; a look is a few calls.
 */
export const ROTATION_BACKOFF: BackoffPolicy = { initialMs: 500, multiplier: 2, maxMs: 5_000, jitter: 0.2 };

export interface RotationDriverOptions {
  state: State;
  clock?: Clock;
  logger?: RuntimeLogger;
  /** How long a node may take to follow a phase's config before the step fails (and is retried). Default 60 s. */
  nodeTimeoutMs?: number;
  /** Between two looks at a node that has not followed yet. Default 100 ms. */
  pollMs?: number;
  /**
   * Called before and after each piece of work (and after each write to a node) and before its record is written: a
   * test that never lets it return plays a process killed at that point (nothing after it is written).
   */
  onStep?: (rotation: CARotationSpec, step: string) => void | Promise<void>;
  /** Where the CAs sign (default: PEM keys in memory); also removes the old CA's token key once the rotation is Done. */
  caKeys?: CaKeys;
  /** Where each phase the rotation reaches is recorded. */
  audit?: AuditSink;
}

export interface RotationDriver {
  settled(): Promise<void>;
  close(): Promise<void>;
}

const OS_ROOT: Pointer = { namespace: OSRootSecrets.namespace, type: OSRootSecrets.type, id: 'os' };
const rotationPointer = (id: string): Pointer => ({ namespace: CARotations.namespace, type: CARotations.type, id });
const secretsPointer = (id: string): Pointer => ({ namespace: CARotationSecrets.namespace, type: CARotationSecrets.type, id });

export function startRotationDriver(options: RotationDriverOptions): RotationDriver {
  return new Driver(options);
}

class Driver implements RotationDriver {
  private readonly clock: Clock;
  private readonly log: RuntimeLogger;
  private readonly subscription: Subscription;
  private readonly certs = new Map<string, Promise<PemCertAndKey>>();
  private readonly loop: CoalescingLoop;
  private failures = 0;

  constructor(private readonly options: RotationDriverOptions) {
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? (() => undefined);
    this.loop = new CoalescingLoop(this.clock, () => this.passOrRetry());
    this.subscription = options.state.watchKind<CARotationSpec>({ namespace: CARotations.namespace, type: CARotations.type }, { bootstrap: true }).subscribe({
      next: (e) => {
        // The bootstrap's end marker is no change (each rotation came as `created`); nor is a failure this driver noted,
        // and waking on that would retry at once, past the backoff.
        if (e.type === 'bootstrapped' || e.type === 'bookmark') return;
        if (e.type === 'updated' && e.old && e.resource && onlyFailureNoted(e.old.spec, e.resource.spec)) return;
        this.loop.kick();
      },
      error: (err: unknown) => this.log('rotation driver stopped following the store', { error: String(err) }),
    });
  }

  private get closed(): boolean {
    return this.loop.closed;
  }

  settled(): Promise<void> {
    return this.loop.settled();
  }

  async close(): Promise<void> {
    this.subscription.unsubscribe();
    await this.loop.close();
  }

  /** One pass; after a failure, when to try again (backing off while it keeps failing). */
  private async passOrRetry(): Promise<DateTime | undefined> {
    try {
      await this.pass();
      this.failures = 0;
      return undefined;
    } catch (err) {
      if (this.closed) return undefined;
      this.failures++;
      const delay = backoffDelay(this.failures, Math.random, ROTATION_BACKOFF);
      this.log('rotation step failed', { error: messageOf(err), retryInMs: Math.round(delay) });
      return this.clock.now().plus({ milliseconds: delay });
    }
  }

  /** Moves every unfinished rotation as far as it will go. */
  private async pass(): Promise<void> {
    const rotations = await this.options.state.list<CARotationSpec>({ namespace: CARotations.namespace, type: CARotations.type });
    for (const r of rotations) {
      let current: Resource<CARotationSpec> | undefined = r;
      while (current && current.spec.phase !== 'Done' && !this.closed) {
        await this.step(current).catch(async (err: unknown) => {
          // A driver being stopped abandons its step; that is not the rotation's failure.
          if (!this.closed) await this.record(current!.metadata.id, (s) => ({ ...s, lastError: messageOf(err) }));
          throw err;
        });
        current = await this.options.state.find<CARotationSpec>(rotationPointer(r.metadata.id));
      }
      if (current?.spec.phase === 'Done') await this.forgetKeys(current.metadata.id);
    }
  }

  /** One phase: every node in order (control planes first), then the connectivity check, then the record. */
  private async step(rotation: Resource<CARotationSpec>): Promise<void> {
    const id = rotation.metadata.id;
    const spec = rotation.spec;
    const target = nextPhase(spec.phase);
    const secrets = (await this.options.state.find<CARotationSecretsSpec>(secretsPointer(id)))?.spec;
    if (!secrets) throw new Error(`CARotations/${id}: its CARotationSecrets/${id} is missing; the rotation cannot go on (start it again with trustctl rotate-ca)`);
    const admin = await this.adminCredentials(spec, secrets);
    // talosctl's first stage: nothing is changed before every node answers with the existing PKI.
    if (spec.phase === 'Staged') await checkConnectivity({ rotation: spec, phase: 'Staged', secrets, admin, mint: (ca) => this.mint(ca) });
    for (const node of spec.nodes) {
      if (this.closed) return;
      if (phaseIndex(node.phase) >= phaseIndex(target)) continue;
      await this.options.onStep?.(spec, `${node.address} -> ${target}`);
      try {
        await this.moveNode(spec, secrets, node, target, admin);
      } catch (err) {
        if (!this.closed) await this.record(id, (s) => ({ ...s, nodes: s.nodes.map((n) => (n.address === node.address ? { ...n, error: messageOf(err) } : n)) }));
        throw err;
      }
      await this.options.onStep?.(spec, `${node.address} at ${target}, not recorded`);
      await this.record(id, (s) => ({ ...s, nodes: s.nodes.map((n) => (n.address === node.address ? { address: n.address, role: n.role, phase: target } : n)) }));
      this.log('rotation node reached phase', { ca: spec.ca, node: node.address, phase: target });
    }
    if (this.closed) return;
    await this.options.onStep?.(spec, `check ${target}`);
    await checkConnectivity({ rotation: spec, phase: target, secrets, admin, mint: (ca) => this.mint(ca) });
    await this.options.onStep?.(spec, `${target} checked, not recorded`);
    await this.record(id, (s) => {
      const { lastError: _dropped, ...rest } = s;
      return { ...rest, phase: target };
    });
    this.log('rotation reached phase', { ca: spec.ca, phase: target });
    void this.options.audit?.record({ actor: ROTATION_DRIVER_ACTOR, action: 'ca-rotation-phase', details: { ca: spec.ca, phase: target, nodes: spec.nodes.map((n) => n.address) } });
  }

  /**
   * One node's part of a phase, run as an ordered list of named steps: widen its CA lists, write its machine config,
   * narrow its CA lists, then wait until it follows. The list holds only what the node still lacks, so a driver that
   * starts again after a crash anywhere re-plans from what the node holds and does the rest. The crash seams are here,
   * in the runner, after each step that wrote something.
   */
  private async moveNode(spec: CARotationSpec, secrets: CARotationSecretsSpec, node: RotationNode, target: RotationPhase, admin: NodeCredentials): Promise<void> {
    for (const step of await this.nodeSteps(spec, secrets, node, target, admin)) {
      await step.run();
      await this.options.onStep?.(spec, `${node.address} -> ${target}: ${step.name}`);
    }
    await this.awaitNode(spec, secrets, node, target, admin);
  }

  /**
   * What `target` asks of one node that it does not hold yet: its machine config's CA fields and the CA lists beside
   * it (ExtraAcceptedCAs for etcd and the aggregator, CrossSignedCAs for the Talos API). Lists widen before the issuing
   * CA changes and narrow after it, so no moment on the node trusts only one of the two CAs, or serves a certificate an
   * old-CA client cannot verify before the old CA is dropped.
   */
  private async nodeSteps(spec: CARotationSpec, secrets: CARotationSecretsSpec, node: RotationNode, target: RotationPhase, admin: NodeCredentials): Promise<NodeStep[]> {
    const got = await callNode(node.address, admin, 'GET', paths.resources('MachineConfigs', 'v1alpha1'));
    if (got.error !== undefined) throw new Error(`${node.address}: reading the machine config: ${got.error}`);
    const config = MachineConfig.parse((got.body as { spec: { yaml: string } }).spec.yaml, `${node.address} machine config`);
    const inConfig = hasAcceptedList(spec.ca);
    const current = caFieldsOf(config, spec.ca, inConfig ? [] : await this.caList(node.address, admin, ExtraAcceptedCAs.type, spec.ca));
    const wanted = caFieldsFor(spec.ca, target, current, secrets.oldCA, secrets.newCA);
    const lists: CAListWrite[] = [];
    if (!inConfig) lists.push({ type: ExtraAcceptedCAs.type, path: paths.extraAcceptedCAs(spec.ca), from: current.accepted, to: wanted.accepted });
    if (spec.ca === 'os' && secrets.crossSigned) {
      const from = await this.caList(node.address, admin, CrossSignedCAs.type, CROSS_SIGNED_CAS_ID);
      lists.push({ type: CrossSignedCAs.type, path: paths.crossSignedCAs(CROSS_SIGNED_CAS_ID), from, to: crossSignedAt(target, from, secrets.crossSigned) });
    }
    const listSteps = lists
      .filter((l) => !sameList(l.from, l.to))
      .map((l): NodeStep => ({ name: `${l.type} written`, run: () => this.putCAList(node.address, admin, spec, l) }));
    const configSteps: NodeStep[] = [];
    if (!samePair(current.ca, wanted.ca) || (inConfig && !sameList(current.accepted, wanted.accepted))) {
      setCAFields(config, spec.ca, wanted);
      configSteps.push({
        name: 'machine config written',
        run: async () => {
          const put = await callNode(node.address, admin, 'PUT', paths.machineConfig, { yaml: config.toYaml() });
          if (put.error !== undefined) throw new Error(`${node.address}: writing the machine config for ${target}: ${put.error}`);
        },
      });
    }
    const widening = phaseIndex(target) < phaseIndex('OldCADropped');
    return widening ? [...listSteps, ...configSteps] : [...configSteps, ...listSteps];
  }

  /** Waits (on the driver's clock) until the node's controllers follow what `target` asked, or fails the step. */
  private async awaitNode(spec: CARotationSpec, secrets: CARotationSecretsSpec, node: RotationNode, target: RotationPhase, admin: NodeCredentials): Promise<void> {
    const deadline = this.clock.now().plus({ milliseconds: this.options.nodeTimeoutMs ?? 60_000 });
    for (;;) {
      const lag = await nodeLag(node.address, admin, spec.ca, target, secrets.oldCA.crt, secrets.newCA.crt);
      if (lag === undefined) return;
      if (this.clock.now() > deadline || this.closed) throw new Error(`${node.address}: has not reached ${target}: ${lag}`);
      await new Promise<void>((resolve) => this.clock.schedule(this.clock.now().plus({ milliseconds: this.options.pollMs ?? 100 }), resolve));
    }
  }

  /** A CA list of the node (ExtraAcceptedCAs, CrossSignedCAs); none when it has no such resource. */
  private async caList(address: string, admin: NodeCredentials, type: string, id: string): Promise<string[]> {
    const got = await callNode(address, admin, 'GET', paths.resources(type, id));
    if (got.status === 404) return [];
    if (got.error !== undefined) throw new Error(`${address}: reading ${type}/${id}: ${got.error}`);
    return (got.body as { spec: { crts: string[] } }).spec.crts;
  }

  private async putCAList(address: string, admin: NodeCredentials, spec: CARotationSpec, list: CAListWrite): Promise<void> {
    const reason = `rotation of the ${spec.ca} CA from ${spec.oldCA.fingerprint.slice(0, 11)} to ${spec.newCA.fingerprint.slice(0, 11)}`;
    const put = await callNode(address, admin, 'PUT', list.path, { crts: list.to, reason });
    // A node of an older trustplane has no such call: say so rather than leave the rotation waiting on a mystery.
    const older = put.status === 404 && put.error?.startsWith('no such call') ? `; that node runs a trustplane without ${list.type}: upgrade it, then the rotation goes on` : '';
    if (put.error !== undefined) throw new Error(`${address}: writing ${list.type}/${spec.ca}: ${put.error}${older}`);
  }

  /**
   * os:admin from this control plane's current OS issuing CA (every node accepts it in every phase: the new CA is
   * accepted everywhere before it issues here), trusting every OS CA in play for the servers' certificates.
   */
  private async adminCredentials(spec: CARotationSpec, secrets: CARotationSecretsSpec): Promise<NodeCredentials> {
    const root = (await this.options.state.find<OSRootSecretsSpec>(OS_ROOT))?.spec;
    if (!root?.issuingCA.key) throw new Error('this node holds no OS CA key: the rotation driver runs on a control plane');
    const trusted = [root.issuingCA.crt, ...root.acceptedCAs, ...(spec.ca === 'os' ? [secrets.oldCA.crt, secrets.newCA.crt] : [])];
    const cert = await this.mint(root.issuingCA);
    return { ca: [...new Set(trusted.map((p) => p.trim()))].join('\n'), ...tlsPair(cert.crt, cert.key, 'rotation client key') };
  }

  /** An os:admin client certificate from `ca`, kept in memory only (one per CA). */
  private mint(ca: PemCertAndKey): Promise<PemCertAndKey> {
    let cert = this.certs.get(ca.crt);
    if (!cert) {
      const caKeys = this.options.caKeys ?? memoryCaKeys;
      cert = issueClientCertificate(ca, {
        roles: ['os:admin'],
        validityHours: 24,
        now: this.clock.now().minus({ minutes: 5 }).toJSDate(),
        signingCA: (pair) => caKeys.signingCA(pair.crt, pair.key, 'machine.ca'),
      });
      this.certs.set(ca.crt, cert);
    }
    return cert;
  }

  /** Once Done, the old CA's key (and the new one's copy) has no business staying in the store. */
  private async forgetKeys(id: string): Promise<void> {
    const secrets = await this.options.state.find<CARotationSecretsSpec>(secretsPointer(id));
    if (!secrets) return;
    // an old CA key in a token goes too; before the secrets that name it, so a failure here is retried, not forgotten
    if (isPkcs11Uri(secrets.spec.oldCA.key)) {
      (this.options.caKeys ?? memoryCaKeys).removeKey(secrets.spec.oldCA.key);
      this.log('rotation done: the old CA key was removed from the PKCS#11 token', { ca: id, key: secrets.spec.oldCA.key });
    }
    await this.options.state.destroy(secretsPointer(id), { owner: ROTATION_DRIVER_OWNER });
    this.log('rotation done: its CA keys were removed from the store', { ca: id });
  }

  private async record(id: string, change: (spec: CARotationSpec) => CARotationSpec): Promise<void> {
    const updated = this.clock.now().toUTC().toISO()!;
    await this.options.state.modify<CARotationSpec>(rotationPointer(id), (current) => (current ? { spec: { ...change(current.spec), updated } } : undefined), { owner: ROTATION_DRIVER_OWNER });
  }
}

/** A named piece of a node's phase; the runner marks a crash seam after it. */
interface NodeStep {
  name: string;
  run(): Promise<void>;
}

/** One of a node's CA lists, as it is and as the phase wants it, with the apid call that sets it. */
interface CAListWrite {
  type: string;
  path: string;
  from: string[];
  to: string[];
}

/** Whether two records of a rotation differ only in the failures noted on them (and the time of the note). */
function onlyFailureNoted(before: CARotationSpec, after: CARotationSpec): boolean {
  const plain = ({ lastError: _error, updated: _updated, nodes, ...rest }: CARotationSpec) => ({ ...rest, nodes: nodes.map(({ error: _e, ...n }) => n) });
  return isDeepStrictEqual(plain(before), plain(after));
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
