// The lifetimes a node was served with (serve's --*-lifetime flags) are not stored as such, but every issued
// certificate keeps the request it was made from: the simulation reads them back, so it renews at the node's pace
// rather than at the defaults (which would reissue everything at its first step, as a changed request).
import type { CertificateLifetimes } from '../../controllers/index.js';
import { ApiCertificates, EtcdSecrets, KubernetesSecrets, TrustdCertificates } from '../../resources/index.js';
import type { IssuedCertificatesSpec } from '../../resources/index.js';
import type { ResourceDefinition } from '../../runtime/resource.js';
import type { State } from '../../runtime/state.js';

/** Which lifetime each issued certificate was asked for with; a name not listed stands for the whole set. */
const SOURCES: readonly { def: ResourceDefinition<IssuedCertificatesSpec>; name?: string; lifetime: keyof CertificateLifetimes }[] = [
  { def: ApiCertificates, name: 'server', lifetime: 'apiServerHours' },
  { def: ApiCertificates, name: 'impersonator', lifetime: 'impersonatorHours' },
  { def: TrustdCertificates, name: 'server', lifetime: 'trustdHours' },
  { def: EtcdSecrets, lifetime: 'etcdHours' },
  { def: KubernetesSecrets, lifetime: 'kubernetesHours' },
];

/** The lifetimes found in the store's issued certificates; one the store holds no certificate for is left out. */
export async function storedLifetimes(state: State): Promise<Partial<CertificateLifetimes>> {
  const found: Partial<CertificateLifetimes> = {};
  for (const source of SOURCES) {
    for (const set of await state.list<IssuedCertificatesSpec>({ namespace: source.def.namespace, type: source.def.type })) {
      const entries = Object.entries(set.spec.certificates).filter(([name]) => source.name === undefined || name === source.name);
      for (const [, c] of entries) found[source.lifetime] ??= c.request.validityHours;
    }
  }
  return found;
}
