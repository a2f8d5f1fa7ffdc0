// Publishes each CA's CRL (RevocationLists/<ca>) on a node that holds the CA's key: the unexpired Revocations of that
// CA, signed by it, with a CRL number one above the last. A new CRL is made when the entries or the CA change, when an
// entry's certificate expires (it drops out), and halfway to nextUpdate, so a relying party never holds a stale one.
import { DateTime } from 'luxon';
import type { CaKeys } from '../config/ca-keys.js';
import { buildCrlAsync, crlPem } from '../pki/index.js';
import type { SigningCA } from '../pki/index.js';
import { exclusive, input, requeueAt } from '../runtime/controller.js';
import type { Controller, ReconcileContext } from '../runtime/controller.js';
import { CA_NAMES } from '../resources/common.js';
import type { CaName, PemPair } from '../resources/common.js';
import { RevocationLists } from '../resources/revocation-lists.js';
import type { RevocationListSpec } from '../resources/revocation-lists.js';
import { Revocations } from '../resources/revocations.js';
import type { RevocationSpec } from '../resources/revocations.js';
import { EtcdRootSecrets, KubernetesRootSecrets, OSRootSecrets } from '../resources/root-secrets.js';
import { memoryCaKeys } from './certificate-cache.js';
import { ETCD_ROOT_ID } from './etcd-root-secrets-controller.js';
import { K8S_ROOT_ID } from './kubernetes-root-secrets-controller.js';
import { OS_ROOT_ID } from './os-root-secrets-controller.js';

/**
 * How long a CRL is good for (7 days, as public CAs publish theirs); a new one is published halfway through. A change
 * publishes at once, so the validity only bounds how stale a relying party's copy can get while trustd is unreachable;
 * shorter would make every node sign four CRLs more often for nothing (and `check` simulates years of them).
 */
export const CRL_VALIDITY_HOURS = 7 * 24;
const REPUBLISH_AFTER_MS = (CRL_VALIDITY_HOURS / 2) * 3_600_000;

/** The field of the machine config each CA comes from: named in an error when its key cannot sign. */
const CA_FIELDS: Record<CaName, string> = { os: 'machine.ca', etcd: 'cluster.etcd.ca', kubernetes: 'cluster.ca', aggregator: 'cluster.aggregatorCA' };

/** `caKeys`: where the CAs sign their CRLs (a key in a PKCS#11 token signs there). */
export function revocationListController(caKeys: CaKeys = memoryCaKeys): Controller {
  return {
    name: 'RevocationListController',
    inputs: [input(Revocations, 'secrets'), input(OSRootSecrets, 'secrets', OS_ROOT_ID), input(EtcdRootSecrets, 'secrets', ETCD_ROOT_ID), input(KubernetesRootSecrets, 'secrets', K8S_ROOT_ID)],
    outputs: [exclusive(RevocationLists)],

    async reconcile(rt) {
      const signers = await signingCAs(rt);
      const revocations = (await rt.list(Revocations, 'secrets')).map((r) => r.spec);
      const now = rt.clock.now().toMillis();
      let wake = Infinity;
      for (const name of CA_NAMES) {
        const pair = signers[name];
        if (!pair) continue;
        const entries = revocations.filter((r) => r.ca === name && Date.parse(r.notAfter) > now).sort((a, b) => a.serial.localeCompare(b.serial));
        const ca = caKeys.signingCA(pair.crt, pair.key, CA_FIELDS[name]);
        const current = (await rt.get(RevocationLists, name))?.spec;
        const stale = !current || changed(current, entries, ca) || dueAt(current) <= now;
        const list = stale ? await publish(rt, name, ca, entries, current, now) : current;
        wake = Math.min(wake, dueAt(list), ...entries.map((e) => Date.parse(e.notAfter)));
      }
      // Its lists are named after the CAs: with every CA's key here (a control plane) there is none to drop, and no list
      // to read for it (check simulates years of these reconciles).
      const signing = CA_NAMES.filter((n) => signers[n]);
      if (signing.length < CA_NAMES.length) await rt.destroyOthers(RevocationLists, signing);
      const published = signing.length;
      return requeueAt(Number.isFinite(wake) ? DateTime.fromMillis(wake, { zone: 'utc' }) : undefined, published ? `${published} CRL(s), ${revocations.length} revocation(s)` : 'no CA key on this node');
    },
  };
}

const dueAt = (list: RevocationListSpec): number => Date.parse(list.thisUpdate) + REPUBLISH_AFTER_MS;

function changed(current: RevocationListSpec, entries: readonly RevocationSpec[], ca: SigningCA): boolean {
  return current.issuer !== ca.cert.fingerprint256 || current.serials.join(',') !== entries.map((e) => e.serial).join(',');
}

async function publish(rt: ReconcileContext, name: CaName, ca: SigningCA, entries: readonly RevocationSpec[], current: RevocationListSpec | undefined, now: number): Promise<RevocationListSpec> {
  const thisUpdate = new Date(Math.floor(now / 1000) * 1000);
  const nextUpdate = new Date(thisUpdate.getTime() + CRL_VALIDITY_HOURS * 3_600_000);
  const number = (current?.number ?? 0) + 1;
  const der = await buildCrlAsync(ca, entries.map((e) => ({ serial: e.serial, revokedAt: new Date(e.revokedAt), reasonCode: e.reasonCode })), { number, thisUpdate, nextUpdate });
  const spec: RevocationListSpec = {
    ca: name,
    pem: crlPem(der),
    number,
    thisUpdate: thisUpdate.toISOString(),
    nextUpdate: nextUpdate.toISOString(),
    serials: entries.map((e) => e.serial),
    issuer: ca.cert.fingerprint256,
  };
  await rt.modify(RevocationLists, name, () => spec);
  return spec;
}

/** The CA certificate and key of each CA this node can sign with (a worker holds none). */
async function signingCAs(rt: ReconcileContext): Promise<Partial<Record<CaName, PemPair>>> {
  const os = (await rt.get(OSRootSecrets, OS_ROOT_ID))?.spec;
  const etcd = (await rt.get(EtcdRootSecrets, ETCD_ROOT_ID))?.spec;
  const k8s = (await rt.get(KubernetesRootSecrets, K8S_ROOT_ID))?.spec;
  const withKey = (pair: PemPair | undefined) => (pair?.key ? pair : undefined);
  return { os: withKey(os?.issuingCA), etcd: withKey(etcd?.ca), kubernetes: withKey(k8s?.ca), aggregator: withKey(k8s?.aggregatorCA) };
}
