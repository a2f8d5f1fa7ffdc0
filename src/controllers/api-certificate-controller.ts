// Issues the apid server certificate (node SANs) and, on control-plane nodes, the impersonator client certificate,
// from the Talos OS CA. Workers get theirs from trustd: the trustd client (src/server) writes what trustd answered to
// TrustdResponses, and this controller installs it once it checks out; until then the set shows as pending, and why.
import { parseCertificate } from './certificate-cache.js';
import { idle, input, exclusive } from '../runtime/controller.js';
import type { Controller, ReconcileContext, ReconcileResult } from '../runtime/controller.js';
import { inspectCertificate, parsePrivateKeyPem, samePublicKey, verifyChain } from '../pki/index.js';
import { CertSANs } from '../resources/cert-sans.js';
import type { CertSANsSpec } from '../resources/cert-sans.js';
import type { IssuedCertificate, IssuedSet } from '../resources/common.js';
import { ApiCertificates } from '../resources/issued-certificates.js';
import { OSRootSecrets } from '../resources/root-secrets.js';
import { TRUSTD_RESPONSE_ID, TrustdResponses } from '../resources/trustd-response.js';
import type { TrustdResponse, TrustdResponseSpec } from '../resources/trustd-response.js';
import { CERT_SANS_ID } from './cert-sans-controller.js';
import { certificateRequest } from './issuing/certificate-request.js';
import type { CertificatePlan } from './issuing/certificate-request.js';
import { writeIssuedSet } from './issuing/write-issued-set.js';
import { issuingWith } from './issuing/issuing-options.js';
import type { IssuingOptions } from './issuing/issuing-options.js';
import type { CertificateLifetimes } from './lifetimes.js';
import { OS_ROOT_ID } from './os-root-secrets-controller.js';
import type { SplitSans } from './sans.js';

export const API_CERTIFICATES_ID = 'api';
export const WORKER_PENDING = 'waiting for trustd: workers receive their apid certificate from a control-plane node';

export function apiCertificateController(options: IssuingOptions = {}): Controller {
  const { lifetimes, caKeys, audit, leafKeys } = issuingWith(options);
  return {
    name: 'ApiCertificateController',
    inputs: [input(OSRootSecrets, 'secrets', OS_ROOT_ID), input(CertSANs, 'secrets', CERT_SANS_ID), input(TrustdResponses, 'secrets', TRUSTD_RESPONSE_ID)],
    outputs: [exclusive(ApiCertificates)],

    async reconcile(rt) {
      const root = await rt.get(OSRootSecrets, OS_ROOT_ID);
      const sans = await rt.get(CertSANs, CERT_SANS_ID);
      if (!root || !sans) return idle('waiting for OS root secrets and certSANs');
      const { acceptedCAs } = root.spec;

      if (root.spec.machineType === 'worker') return installTrustdResponse(rt, acceptedCAs, sans.spec);

      const ca = caKeys.signingCA(root.spec.issuingCA.crt, root.spec.issuingCA.key, 'machine.ca');
      const wanted = apiCertificatePlans(lifetimes, sans.spec).map((plan) => ({ ...plan, ca }));
      return writeIssuedSet(rt, ApiCertificates, API_CERTIFICATES_ID, wanted, { acceptedCAs, audit, leafKeys });
    },
  };
}

/** The control plane's apid certificates for these SANs (workers get theirs from trustd). */
export function apiCertificatePlans(lifetimes: CertificateLifetimes, sans: SplitSans): CertificatePlan[] {
  return [
    { name: 'server', issuer: 'os', request: certificateRequest('node-server', 'talos-node', [], lifetimes.apiServerHours, sans) },
    {
      name: 'impersonator',
      issuer: 'os',
      request: certificateRequest('impersonator', 'impersonator', ['os:impersonator'], lifetimes.impersonatorHours),
    },
  ];
}

/** The worker branch: install trustd's certificate when it checks out, else keep what is held and say what is awaited. */
async function installTrustdResponse(rt: ReconcileContext, acceptedCAs: string[], sans: CertSANsSpec): Promise<ReconcileResult> {
  const trustd = (await rt.get(TrustdResponses, TRUSTD_RESPONSE_ID))?.spec;
  const now = rt.clock.now().toJSDate();
  const problem = trustd?.response ? trustdResponseProblem(trustd.response, acceptedCAs, sans, now) : undefined;
  const current = await rt.get(ApiCertificates, API_CERTIFICATES_ID);
  const held = current?.spec.certificates.server;
  const server = trustd?.response && !problem ? installed(trustd.response, held) : held;
  const pending = server && !problem ? undefined : workerPending(trustd, problem);
  const certificates: IssuedSet = server ? { server } : {};
  await rt.modify(ApiCertificates, API_CERTIFICATES_ID, () => ({ certificates, acceptedCAs, ...(pending ? { pending } : {}) }));
  if (server && server !== held) rt.log(`installed ApiCertificates/${API_CERTIFICATES_ID} server from trustd`, { reason: server.reason });
  return idle(pending ?? 'up to date (from trustd)');
}

function installed(response: TrustdResponse, held: IssuedCertificate | undefined): IssuedCertificate {
  if (held?.crt === response.crt && held.key === response.key) return held;
  const cert = parseCertificate(response.crt);
  const hours = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 3_600_000;
  return {
    crt: response.crt,
    key: response.key,
    issuer: 'os',
    request: certificateRequest('node-server', 'talos-node', [], Math.max(1, Math.round(hours)), response.sans),
    issuedAt: response.requestedAt,
    renewAt: response.renewAt,
    reason: response.reason,
  };
}

function workerPending(trustd: TrustdResponseSpec | undefined, problem: string | undefined): string {
  const failure = trustd?.failure;
  if (failure) return `waiting for trustd: attempt ${failure.attempts} failed: ${failure.message}; next retry at ${failure.nextRetry}`;
  if (problem) return `waiting for trustd: the certificate it returned does not fit this node: ${problem}`;
  return WORKER_PENDING;
}

const sameSet = (a: readonly string[], b: readonly string[]) => [...new Set(a)].sort().join(',') === [...new Set(b)].sort().join(',');

/**
 * Why a certificate trustd returned must not be used as this worker's apid certificate, or undefined when it may:
 * the key must match, it must chain to an accepted OS CA for serverAuth now, carry no Organization, and name exactly
 * the node's SANs. The trustd client checks the same before it stores an answer.
 */
export function trustdResponseProblem(response: Pick<TrustdResponse, 'crt' | 'key'>, acceptedCAs: readonly string[], sans: CertSANsSpec, now: Date): string | undefined {
  try {
    const cert = parseCertificate(response.crt);
    if (!samePublicKey(cert.publicKey, parsePrivateKeyPem(response.key).publicKey)) return 'the private key does not match the certificate';
    const chain = verifyChain(cert, acceptedCAs.map(parseCertificate), { at: now, purpose: 'serverAuth' });
    if (!chain.ok) return `it does not chain to an accepted OS CA: ${chain.message}`;
    const info = inspectCertificate(cert);
    if (info.isCA) return 'it is a CA certificate';
    if (info.subject.organizations.length) return `it carries an Organization (${info.subject.organizations.join(',')})`;
    if (!info.extKeyUsage.includes('serverAuth')) return 'it lacks the serverAuth extended key usage';
    if (!sameSet(info.ipAddresses, sans.ips) || !sameSet(info.dnsNames, sans.dnsNames)) {
      return `its SANs (${[...info.dnsNames, ...info.ipAddresses].join(',')}) differ from the node's (${[...sans.dnsNames, ...sans.ips].join(',')})`;
    }
    return undefined;
  } catch (err) {
    return `it cannot be read: ${err instanceof Error ? err.message : String(err)}`;
  }
}
