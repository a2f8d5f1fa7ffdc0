// A worker's copy of the cluster's revocations: a loop beside the runtime that long-polls the trustd it gets its
// certificate from (the same endpoints and trust check as the trustd client; its current apid certificate as the
// credential once it holds one, so a spent join token or a static token turned off stops nothing; machine.token before
// that) and mirrors the answer into the local store's Revocations, which the worker's apid enforces. A revocation
// reaches the worker within a round trip; while trustd cannot be reached the worker keeps enforcing what it last
// received.
import type { TLSSocket } from 'node:tls';
// Deep imports: 'rxjs' itself loads every operator, a tenth of a second at each worker's start.
import { firstValueFrom } from 'rxjs/internal/firstValueFrom';
import { filter } from 'rxjs/internal/operators/filter';
import { parseCertificate } from '../../controllers/certificate-cache.js';
import { OS_ROOT_ID } from '../../controllers/os-root-secrets-controller.js';
import { MACHINE_CONFIG_ID, MachineConfigs, machineConfigOf } from '../../resources/machine-config.js';
import type { MachineConfigSpec } from '../../resources/machine-config.js';
import { Revocations, revocationId } from '../../resources/revocations.js';
import type { RevocationSpec } from '../../resources/revocations.js';
import { OSRootSecrets } from '../../resources/root-secrets.js';
import type { OSRootSecretsSpec } from '../../resources/root-secrets.js';
import { TRUSTD_RESPONSE_ID, TrustdResponses } from '../../resources/trustd-response.js';
import type { TrustdResponseSpec } from '../../resources/trustd-response.js';
import { backoffDelay } from '../../runtime/backoff.js';
import type { BackoffPolicy } from '../../runtime/backoff.js';
import type { Clock } from '../../runtime/clock.js';
import { systemClock } from '../../runtime/clock.js';
import type { RuntimeLogger } from '../../runtime/runtime-context.js';
import type { State } from '../../runtime/state.js';
import { WAIT_MS } from '../trustd/revocations-endpoint.js';
import { fetchRevocations } from './fetch-revocations.js';
import { trustdCredential } from './trustd-credential.js';
import { endpointFromControlPlane, formatEndpoint, parseEndpoint } from './trustd-endpoints.js';
import type { HostPort } from './trustd-endpoints.js';

export const REVOCATION_FOLLOWER_OWNER = 'revocation-follower';
/** Between failed polls: 1 s doubling to 30 s, so a revocation is not held back long after trustd is back. */
export const REVOCATION_FOLLOWER_BACKOFF: BackoffPolicy = { initialMs: 1000, multiplier: 2, maxMs: 30_000, jitter: 0.2 };

export interface RevocationFollowerOptions {
  state: State;
  /** HOST:PORT of trustd; default: the control-plane endpoint's host on port 50001 (as the trustd client). */
  endpoints?: string[];
  clock?: Clock;
  logger?: RuntimeLogger;
  backoff?: BackoffPolicy;
}

export interface RevocationFollower {
  close(): Promise<void>;
}

const OS = { namespace: OSRootSecrets.namespace, type: OSRootSecrets.type, id: OS_ROOT_ID };
const CONFIG = { namespace: MachineConfigs.namespace, type: MachineConfigs.type, id: MACHINE_CONFIG_ID };
const KIND = { namespace: Revocations.namespace, type: Revocations.type };
const RESPONSE = { namespace: TrustdResponses.namespace, type: TrustdResponses.type, id: TRUSTD_RESPONSE_ID };

export function startRevocationFollower(o: RevocationFollowerOptions): RevocationFollower {
  const given = (o.endpoints ?? []).map((e) => parseEndpoint(e, '--trustd-endpoint'));
  const clock = o.clock ?? systemClock;
  const log = o.logger ?? (() => undefined);
  let closed = false;
  let socket: TLSSocket | undefined;
  let timer: NodeJS.Timeout | undefined;
  let wakeUp: () => void = () => undefined;
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      wakeUp = () => (clearTimeout(timer), resolve());
    });
  // A certificate arriving from trustd is a new credential: a poll refused for want of one is tried again at once.
  const arrivals = o.state.watch(RESPONSE).subscribe({
    next: () => wakeUp(),
    // Only the early retry is lost: polls still come at the backoff's pace.
    error: (err: unknown) => log('revocation follower stopped watching for a new certificate', { error: err instanceof Error ? err.message : String(err) }),
  });

  const run = async (): Promise<void> => {
    let etag = '';
    let failures = 0;
    while (!closed) {
      try {
        const root = (await o.state.find<OSRootSecretsSpec>(OS))?.spec;
        if (!root) {
          // A worker starting up: its controllers write the root secrets in a moment; nothing to say until then.
          await Promise.race([firstValueFrom(o.state.watch(OS).pipe(filter((e) => e.type === 'created'))), stopped]);
          continue;
        }
        const endpoints = given.length ? given : await configured(o.state);
        if (endpoints.length === 0) throw new Error('no trustd endpoint: set cluster.controlPlane.endpoint in the machine config or pass --trustd-endpoint HOST:PORT');
        const endpoint = endpoints[failures % endpoints.length];
        const at = clock.now().toJSDate();
        const held = (await o.state.find<TrustdResponseSpec>(RESPONSE))?.spec.response;
        const answer = await fetchRevocations({
          endpoint,
          ...trustdCredential({ held, acceptedCAs: root.acceptedCAs, purpose: 'serverAuth', now: at, token: root.token }),
          trusted: root.acceptedCAs.map(parseCertificate),
          at,
          timeoutMs: WAIT_MS + 15_000,
          etag,
          // A close that came while this poll was connecting cuts it now, not after trustd's wait.
          onSocket: (s) => ((socket = s), closed && s.destroy()),
        });
        if (answer) {
          const changes = await mirror(o.state, answer.revocations);
          if (changes) log('revocations received from trustd', { endpoint: formatEndpoint(endpoint), revocations: answer.revocations.length, changes });
          etag = answer.etag;
        }
        failures = 0;
      } catch (err) {
        if (closed) return;
        failures++;
        log('revocation follower: trustd not reached', { error: err instanceof Error ? err.message : String(err), attempts: failures });
        await pause(backoffDelay(failures, Math.random, o.backoff ?? REVOCATION_FOLLOWER_BACKOFF));
      }
    }
  };
  const done = run();
  return {
    async close() {
      closed = true;
      stop();
      arrivals.unsubscribe();
      socket?.destroy();
      wakeUp();
      await done;
    },
  };
}

async function configured(state: State): Promise<HostPort[]> {
  const mc = await state.find<MachineConfigSpec>(CONFIG);
  const endpoint = mc ? endpointFromControlPlane(machineConfigOf(mc).controlPlaneEndpoint) : undefined;
  return endpoint ? [endpoint] : [];
}

/** Makes the follower's Revocations equal to `wanted` (leaving any written on this node by hand); returns how many changed. */
export async function mirror(state: State, wanted: readonly RevocationSpec[]): Promise<number> {
  const local = new Map((await state.list<RevocationSpec>(KIND)).map((r) => [r.metadata.id, r]));
  const ids = new Set<string>();
  let changes = 0;
  for (const spec of wanted) {
    const id = revocationId(spec.ca, spec.serial);
    ids.add(id);
    const held = local.get(id);
    if (held && (held.metadata.owner !== REVOCATION_FOLLOWER_OWNER || JSON.stringify(held.spec) === JSON.stringify(spec))) continue;
    if (held) await state.update({ ...held, spec }, { owner: REVOCATION_FOLLOWER_OWNER });
    else await state.create({ metadata: { ...KIND, id }, spec }, { owner: REVOCATION_FOLLOWER_OWNER });
    changes++;
  }
  for (const [id, held] of local) {
    if (ids.has(id) || held.metadata.owner !== REVOCATION_FOLLOWER_OWNER) continue;
    await state.destroy({ ...KIND, id }, { owner: REVOCATION_FOLLOWER_OWNER });
    changes++;
  }
  return changes;
}
