// The worker's kubelet CSR client: a loop beside the runtime, like the trustd client. For each of the kubelet's client
// and serving certificates that is missing, asks for other names, comes from a CA no longer accepted, or is due for
// renewal, it makes a key and CSR and posts it to a control plane's trustd (POST /v1/kubelet-csr): with the cluster
// bootstrap token while the node holds no valid kubelet client certificate, with that certificate (mTLS) once it does.
// What came back, or why it failed, goes to KubeletResponses; KubeletCertificateController installs it from there.
import { parseCertificate } from '../../controllers/certificate-cache.js';
import { kubeletAnswerProblem, kubeletCertificatePlans } from '../../controllers/kubelet-certificate-controller.js';
import type { CertificateLifetimes } from '../../controllers/lifetimes.js';
import { DEFAULT_LIFETIMES } from '../../controllers/lifetimes.js';
import { NODE_ADDRESSES_ID } from '../../controllers/node-addresses-controller.js';
import { OS_ROOT_ID } from '../../controllers/os-root-secrets-controller.js';
import { renewalTime } from '../../controllers/policy/renewal-time.js';
import { createCsr, encodePrivateKeyPem, generateKeyPair } from '../../pki/index.js';
import type { CertificateRequest, IssueReason } from '../../resources/common.js';
import { KUBELET_CSR_CLIENT_OWNER, KUBELET_KINDS, KUBELET_RESPONSE_ID, KubeletResponses } from '../../resources/kubelet-response.js';
import type { KubeletAnswer, KubeletKind, KubeletResponseSpec } from '../../resources/kubelet-response.js';
import { MACHINE_CONFIG_ID, MachineConfigs, machineConfigOf } from '../../resources/machine-config.js';
import type { MachineConfigSpec } from '../../resources/machine-config.js';
import { NodeAddresses } from '../../resources/node-addresses.js';
import type { NodeAddressesSpec } from '../../resources/node-addresses.js';
import { OSRootSecrets } from '../../resources/root-secrets.js';
import type { OSRootSecretsSpec } from '../../resources/root-secrets.js';
import { backoffDelay } from '../../runtime/backoff.js';
import type { BackoffPolicy } from '../../runtime/backoff.js';
import type { Clock } from '../../runtime/clock.js';
import { systemClock } from '../../runtime/clock.js';
import type { Pointer } from '../../runtime/resource.js';
import type { RuntimeLogger } from '../../runtime/runtime-context.js';
import type { State } from '../../runtime/state.js';
import { KUBELET_CSR_PATH } from '../trustd/kubelet-csr-call.js';
import { kubeletRequestVerdict } from './kubelet-request-policy.js';
import { StoreFollowingLoop } from './store-following-loop.js';
import { postCsr } from './post-csr.js';
import { sourceAddress } from './source-address.js';
import { TRUSTD_CLIENT_BACKOFF } from './trustd-client.js';
import type { TrustdClient } from './trustd-client.js';
import { credentialKind, trustdCredential } from './trustd-credential.js';
import { endpointFromControlPlane, formatEndpoint, parseEndpoint } from './trustd-endpoints.js';
import type { HostPort } from './trustd-endpoints.js';

export interface KubeletCsrClientOptions {
  state: State;
  /** HOST:PORT of trustd; default: the control-plane endpoint's host on port 50001. */
  endpoints?: string[];
  clock?: Clock;
  logger?: RuntimeLogger;
  backoff?: BackoffPolicy;
  random?: () => number;
  requestTimeoutMs?: number;
  /** Must match the control planes' (the request's lifetime is part of what is compared for RequestChanged). */
  lifetimes?: CertificateLifetimes;
}

const pointer = <T extends { namespace: string; type: string }>(d: T, id: string): Pointer => ({ namespace: d.namespace, type: d.type, id });
const CONFIG = pointer(MachineConfigs, MACHINE_CONFIG_ID);
const NODE = pointer(NodeAddresses, NODE_ADDRESSES_ID);
const OS = pointer(OSRootSecrets, OS_ROOT_ID);
const RESPONSE = pointer(KubeletResponses, KUBELET_RESPONSE_ID);

interface Context {
  token: string;
  k8sCAs: string[];
  osCAs: string[];
  endpoints: HostPort[];
  node: NodeAddressesSpec;
}

export function startKubeletCsrClient(options: KubeletCsrClientOptions): TrustdClient {
  return new KubeletLoop(options, (options.endpoints ?? []).map((e) => parseEndpoint(e, '--trustd-endpoint')));
}

class KubeletLoop implements TrustdClient {
  private readonly clock: Clock;
  private readonly log: RuntimeLogger;
  private readonly loop: StoreFollowingLoop;

  constructor(
    private readonly options: KubeletCsrClientOptions,
    private readonly endpoints: HostPort[],
  ) {
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? (() => undefined);
    this.loop = new StoreFollowingLoop({
      state: options.state,
      clock: this.clock,
      log: this.log,
      name: 'kubelet CSR client',
      follows: [CONFIG, NODE, OS, RESPONSE],
      retryMs: (options.backoff ?? TRUSTD_CLIENT_BACKOFF).initialMs,
      reconcile: () => this.reconcile(),
    });
  }

  settled(): Promise<void> {
    return this.loop.settled();
  }

  async close(): Promise<void> {
    await this.loop.close();
  }

  private async context(): Promise<Context | undefined> {
    const { state } = this.options;
    const mc = await state.find<MachineConfigSpec>(CONFIG);
    const config = mc && machineConfigOf(mc);
    const node = (await state.find<NodeAddressesSpec>(NODE))?.spec;
    const os = (await state.find<OSRootSecretsSpec>(OS))?.spec;
    const k8sCA = config?.kubernetesCA?.crt;
    if (!config || config.type !== 'worker' || !node || !os || !k8sCA) return undefined;
    const endpoint = endpointFromControlPlane(config.controlPlaneEndpoint);
    return {
      token: config.bootstrapToken,
      k8sCAs: [...new Set([...config.kubernetesAcceptedCAs, k8sCA])],
      osCAs: os.acceptedCAs,
      endpoints: this.endpoints.length ? this.endpoints : endpoint ? [endpoint] : [],
      node,
    };
  }

  /** One pass: returns when to come back (the earliest renewal or the next retry), undefined to wait for a change. */
  private async reconcile(): Promise<Date | undefined> {
    const ctx = await this.context();
    if (!ctx) return undefined;
    const held: KubeletResponseSpec = (await this.options.state.find<KubeletResponseSpec>(RESPONSE))?.spec ?? {};
    const now = this.clock.now().toJSDate();
    const plans = kubeletCertificatePlans(this.options.lifetimes ?? DEFAULT_LIFETIMES, ctx.node);
    const due = KUBELET_KINDS.flatMap((kind) => {
      const wanted = plans.find((p) => p.name === kind)!.request;
      const verdict = kubeletRequestVerdict({ answer: held[kind], wanted, acceptedCAs: ctx.k8sCAs, now });
      return verdict ? [{ kind, wanted, reason: verdict.reason, why: verdict.message }] : [];
    });
    if (!due.length) return new Date(Math.min(...KUBELET_KINDS.map((k) => Date.parse(held[k]!.renewAt))));
    if (held.failure && Date.parse(held.failure.nextRetry) > now.getTime()) return new Date(held.failure.nextRetry);

    const next: KubeletResponseSpec = { ...(held.client ? { client: held.client } : {}), ...(held.server ? { server: held.server } : {}) };
    for (const d of due) {
      // the client certificate first: a serving CSR made after it renews with it rather than with the token
      const attempt = ctx.endpoints.length
        ? await this.request(ctx, d.kind, d.wanted, d.reason, next.client, held.failure?.attempts ?? 0)
        : { error: 'no trustd endpoint: set cluster.controlPlane.endpoint in the machine config or pass --trustd-endpoint HOST:PORT' };
      if ('error' in attempt) return this.failed(next, held, attempt.error, now);
      next[d.kind] = attempt.answer;
      this.log('kubelet CSR client received a certificate', { kind: d.kind, reason: d.reason, why: d.why, auth: attempt.answer.auth, endpoint: attempt.answer.endpoint });
    }
    await this.write(next);
    return undefined; // the write kicks the next pass, which computes the renewal time
  }

  private async failed(next: KubeletResponseSpec, held: KubeletResponseSpec, error: string, now: Date): Promise<Date> {
    const attempts = (held.failure?.attempts ?? 0) + 1;
    const nextRetry = new Date(now.getTime() + backoffDelay(attempts, this.options.random ?? Math.random, this.options.backoff ?? TRUSTD_CLIENT_BACKOFF));
    await this.write({ ...next, failure: { message: error, attempts, lastAttempt: now.toISOString(), nextRetry: nextRetry.toISOString() } });
    this.log('kubelet CSR client request failed', { attempts, error, nextRetry: nextRetry.toISOString() });
    return nextRetry;
  }

  private async request(
    ctx: Context,
    kind: KubeletKind,
    wanted: CertificateRequest,
    reason: IssueReason,
    client: KubeletAnswer | undefined,
    failures: number,
  ): Promise<{ answer: KubeletAnswer } | { error: string }> {
    const requestedAt = this.clock.now().toJSDate();
    const key = await generateKeyPair('ecdsa');
    const csr = createCsr(key, { commonName: wanted.commonName, organizations: wanted.organizations }, { dnsNames: wanted.dnsNames, ipAddresses: wanted.ipAddresses });
    const keyPem = encodePrivateKeyPem(key);
    // A current client certificate authenticates the request; without one (or once it ran out) the bootstrap token does.
    const identity = trustdCredential({ held: client, acceptedCAs: ctx.k8sCAs, purpose: 'clientAuth', now: requestedAt, token: ctx.token });
    const errors: string[] = [];
    const source = sourceAddress(ctx.node.addresses);
    for (let i = 0; i < ctx.endpoints.length; i++) {
      const endpoint = ctx.endpoints[(failures + i) % ctx.endpoints.length];
      const name = formatEndpoint(endpoint);
      try {
        const answer = await postCsr({
          endpoint,
          csr,
          ...identity,
          path: KUBELET_CSR_PATH,
          fields: { kind, node: ctx.node.hostname },
          ...(source ? { localAddress: source } : {}),
          trusted: ctx.osCAs.map(parseCertificate),
          at: this.clock.now().toJSDate(),
          timeoutMs: this.options.requestTimeoutMs ?? 10_000,
        });
        const problem = kubeletAnswerProblem(kind, { crt: answer.crt, key: keyPem }, wanted, ctx.k8sCAs, this.clock.now().toJSDate());
        if (problem) throw new Error(`trustd's kubelet ${kind} certificate was refused: ${problem}`);
        const cert = parseCertificate(answer.crt);
        const from = new Date(Math.max(Date.parse(cert.validFrom), requestedAt.getTime()));
        const renewAt = renewalTime(from, new Date(cert.validTo), `${KUBELET_RESPONSE_ID}/${kind}/${cert.serialNumber}`);
        return { answer: { crt: answer.crt, key: keyPem, request: wanted, requestedAt: requestedAt.toISOString(), renewAt: renewAt.toISOString(), reason, auth: credentialKind(identity), endpoint: name } };
      } catch (err) {
        errors.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return { error: `kubelet ${kind} CSR: ${errors.join('; ')}` };
  }

  private async write(spec: KubeletResponseSpec): Promise<void> {
    await this.options.state.modify<KubeletResponseSpec>(RESPONSE, () => ({ spec }), { owner: KUBELET_CSR_CLIENT_OWNER });
  }
}
