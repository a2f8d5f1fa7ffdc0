// The worker's trustd client: a loop beside the runtime (controllers never open sockets). When the worker holds no
// certificate from trustd, when its SANs change, or when the held one reaches its renewal time, it makes a new key and
// CSR (CN talos-node, the node's SANs), posts it to trustd, and writes what came back (or why it failed, with the next
// retry) to TrustdResponses; ApiCertificateController installs it from there. The request authenticates with the
// certificate held while it is current and carries every name asked for, else with machine.token (trustd-credential.ts).
import { parseCertificate } from '../../controllers/certificate-cache.js';
import { trustdResponseProblem } from '../../controllers/api-certificate-controller.js';
import { CERT_SANS_ID } from '../../controllers/cert-sans-controller.js';
import { OS_ROOT_ID } from '../../controllers/os-root-secrets-controller.js';
import { renewalTime } from '../../controllers/policy/renewal-time.js';
import { algorithmOf, createCsr, encodePrivateKeyPem, generateKeyPair } from '../../pki/index.js';
import { CertSANs } from '../../resources/cert-sans.js';
import type { CertSANsSpec } from '../../resources/cert-sans.js';
import type { IssueReason } from '../../resources/common.js';
import { MACHINE_CONFIG_ID, MachineConfigs, machineConfigOf } from '../../resources/machine-config.js';
import type { MachineConfigSpec } from '../../resources/machine-config.js';
import { OSRootSecrets } from '../../resources/root-secrets.js';
import type { OSRootSecretsSpec } from '../../resources/root-secrets.js';
import { TRUSTD_CLIENT_OWNER, TRUSTD_RESPONSE_ID, TrustdResponses } from '../../resources/trustd-response.js';
import type { TrustdResponse, TrustdResponseSpec } from '../../resources/trustd-response.js';
import { backoffDelay } from '../../runtime/backoff.js';
import type { BackoffPolicy } from '../../runtime/backoff.js';
import type { Clock } from '../../runtime/clock.js';
import { systemClock } from '../../runtime/clock.js';
import type { Pointer } from '../../runtime/resource.js';
import type { RuntimeLogger } from '../../runtime/runtime-context.js';
import type { State } from '../../runtime/state.js';
import { StoreFollowingLoop } from './store-following-loop.js';
import { postCsr } from './post-csr.js';
import { endpointFromControlPlane, formatEndpoint, parseEndpoint } from './trustd-endpoints.js';
import type { HostPort } from './trustd-endpoints.js';
import { requestVerdict } from './request-policy.js';
import { credentialKind, trustdCredential } from './trustd-credential.js';

/** 1 s, doubling, capped at 5 min, +-20 %: a control plane coming back is not stampeded by every worker at once. */
export const TRUSTD_CLIENT_BACKOFF: BackoffPolicy = { initialMs: 1000, multiplier: 2, maxMs: 300_000, jitter: 0.2 };

export interface TrustdClientOptions {
  state: State;
  /** HOST:PORT of trustd (serve's --trustd-endpoint); default: the control-plane endpoint's host on port 50001. */
  endpoints?: string[];
  clock?: Clock;
  logger?: RuntimeLogger;
  backoff?: BackoffPolicy;
  /** For the backoff jitter; Math.random by default. */
  random?: () => number;
  /** Real time allowed for one request (connect, TLS, answer). Default 10 s. */
  requestTimeoutMs?: number;
}

export interface TrustdClient {
  /** Resolves once no attempt is running or queued (a manual clock waits for this between timers). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

const pointer = <T extends { namespace: string; type: string }>(d: T, id: string): Pointer => ({ namespace: d.namespace, type: d.type, id });
const OS = pointer(OSRootSecrets, OS_ROOT_ID);
const SANS = pointer(CertSANs, CERT_SANS_ID);
const CONFIG = pointer(MachineConfigs, MACHINE_CONFIG_ID);
const RESPONSE = pointer(TrustdResponses, TRUSTD_RESPONSE_ID);

export function startTrustdClient(options: TrustdClientOptions): TrustdClient {
  const given = (options.endpoints ?? []).map((e) => parseEndpoint(e, '--trustd-endpoint'));
  return new Loop(options, given);
}

class Loop implements TrustdClient {
  private readonly clock: Clock;
  private readonly log: RuntimeLogger;
  private readonly loop: StoreFollowingLoop;

  constructor(
    private readonly options: TrustdClientOptions,
    private readonly endpoints: HostPort[],
  ) {
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? (() => undefined);
    this.loop = new StoreFollowingLoop({
      state: options.state,
      clock: this.clock,
      log: this.log,
      name: 'trustd client',
      follows: [OS, SANS, CONFIG, RESPONSE],
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

  /** One pass: returns when to come back (renewal time or next retry), undefined to wait for a change. */
  private async reconcile(): Promise<Date | undefined> {
    const { state } = this.options;
    const root = await state.find<OSRootSecretsSpec>(OS);
    const sans = await state.find<CertSANsSpec>(SANS);
    if (!root || root.spec.machineType !== 'worker' || !sans) return undefined;
    const held = (await state.find<TrustdResponseSpec>(RESPONSE))?.spec ?? {};
    const now = this.clock.now().toJSDate();
    const verdict = requestVerdict({ response: held.response, sans: sans.spec, acceptedCAs: root.spec.acceptedCAs, issuingCA: { crt: root.spec.issuingCA.crt, since: root.metadata.updated }, now });
    if (!verdict) return new Date(held.response!.renewAt);
    if (held.failure && Date.parse(held.failure.nextRetry) > now.getTime()) return new Date(held.failure.nextRetry);

    const endpoints = this.endpoints.length ? this.endpoints : await this.configuredEndpoints();
    const attempt = endpoints.length
      ? await this.request(endpoints, root.spec, sans.spec, verdict.reason, held)
      : { error: 'no trustd endpoint: set cluster.controlPlane.endpoint in the machine config or pass --trustd-endpoint HOST:PORT' };
    if ('response' in attempt) {
      await this.write({ response: attempt.response });
      this.log('trustd client received a certificate', { reason: verdict.reason, why: verdict.message, endpoint: attempt.response.endpoint });
      return new Date(attempt.response.renewAt);
    }
    const attempts = (held.failure?.attempts ?? 0) + 1;
    const nextRetry = new Date(now.getTime() + backoffDelay(attempts, this.options.random ?? Math.random, this.options.backoff ?? TRUSTD_CLIENT_BACKOFF));
    await this.write({
      ...(held.response ? { response: held.response } : {}),
      failure: { message: attempt.error, attempts, lastAttempt: now.toISOString(), nextRetry: nextRetry.toISOString() },
    });
    this.log('trustd client request failed', { attempts, error: attempt.error, nextRetry: nextRetry.toISOString() });
    return nextRetry;
  }

  private async configuredEndpoints(): Promise<HostPort[]> {
    const mc = await this.options.state.find<MachineConfigSpec>(CONFIG);
    const endpoint = mc ? endpointFromControlPlane(machineConfigOf(mc).controlPlaneEndpoint) : undefined;
    return endpoint ? [endpoint] : [];
  }

  /** Tries each endpoint in turn (starting further along after each failed round); the first good answer wins. */
  private async request(endpoints: HostPort[], root: OSRootSecretsSpec, sans: CertSANsSpec, reason: IssueReason, held: TrustdResponseSpec): Promise<{ response: TrustdResponse } | { error: string }> {
    const requestedAt = this.clock.now().toJSDate();
    const key = await generateKeyPair(algorithmOf(parseCertificate(root.issuingCA.crt).publicKey), { rsaBits: 2048 });
    const csr = createCsr(key, { commonName: 'talos-node' }, { dnsNames: sans.dnsNames, ipAddresses: sans.ips });
    const keyPem = encodePrivateKeyPem(key);
    const credential = trustdCredential({ held: held.response, acceptedCAs: root.acceptedCAs, purpose: 'serverAuth', now: requestedAt, token: root.token, names: [...sans.ips, ...sans.dnsNames] });
    const errors: string[] = [];
    const failures = held.failure?.attempts ?? 0;
    for (let i = 0; i < endpoints.length; i++) {
      const endpoint = endpoints[(failures + i) % endpoints.length];
      const name = formatEndpoint(endpoint);
      try {
        const answer = await postCsr({
          endpoint,
          csr,
          ...credential,
          trusted: root.acceptedCAs.map(parseCertificate),
          at: this.clock.now().toJSDate(),
          timeoutMs: this.options.requestTimeoutMs ?? 10_000,
        });
        const problem = trustdResponseProblem({ crt: answer.crt, key: keyPem }, root.acceptedCAs, sans, this.clock.now().toJSDate());
        if (problem) throw new Error(`trustd's certificate was refused: ${problem}`);
        const cert = parseCertificate(answer.crt);
        const from = new Date(Math.max(Date.parse(cert.validFrom), requestedAt.getTime()));
        const renewAt = renewalTime(from, new Date(cert.validTo), `${TRUSTD_RESPONSE_ID}/server/${cert.serialNumber}`);
        return {
          response: { crt: answer.crt, key: keyPem, ca: answer.ca, sans, requestedAt: requestedAt.toISOString(), renewAt: renewAt.toISOString(), reason, endpoint: name, auth: credentialKind(credential) },
        };
      } catch (err) {
        errors.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return { error: errors.join('; ') };
  }

  private async write(spec: TrustdResponseSpec): Promise<void> {
    await this.options.state.modify<TrustdResponseSpec>(RESPONSE, () => ({ spec }), { owner: TRUSTD_CLIENT_OWNER });
  }
}
