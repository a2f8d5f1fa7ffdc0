// Issues trustd's server certificate on control-plane nodes from the Talos OS CA, for the same names as apid.
import { idle, input, exclusive } from '../runtime/controller.js';
import type { Controller } from '../runtime/controller.js';
import { CertSANs } from '../resources/cert-sans.js';
import { TrustdCertificates } from '../resources/issued-certificates.js';
import { OSRootSecrets } from '../resources/root-secrets.js';
import { CERT_SANS_ID } from './cert-sans-controller.js';
import { certificateRequest } from './issuing/certificate-request.js';
import type { CertificatePlan } from './issuing/certificate-request.js';
import { writeIssuedSet } from './issuing/write-issued-set.js';
import { issuingWith } from './issuing/issuing-options.js';
import type { IssuingOptions } from './issuing/issuing-options.js';
import type { CertificateLifetimes } from './lifetimes.js';
import { OS_ROOT_ID } from './os-root-secrets-controller.js';
import type { SplitSans } from './sans.js';

export const TRUSTD_CERTIFICATES_ID = 'trustd';

export function trustdCertificateController(options: IssuingOptions = {}): Controller {
  const { lifetimes, caKeys, audit, leafKeys } = issuingWith(options);
  return {
    name: 'TrustdCertificateController',
    inputs: [input(OSRootSecrets, 'secrets', OS_ROOT_ID), input(CertSANs, 'secrets', CERT_SANS_ID)],
    outputs: [exclusive(TrustdCertificates)],

    async reconcile(rt) {
      const root = await rt.get(OSRootSecrets, OS_ROOT_ID);
      const sans = await rt.get(CertSANs, CERT_SANS_ID);
      if (root?.spec.machineType === 'worker') {
        await rt.destroyOthers(TrustdCertificates, []);
        return idle('trustd runs on control-plane nodes only');
      }
      if (!root || !sans) return idle('waiting for OS root secrets and certSANs');
      const ca = caKeys.signingCA(root.spec.issuingCA.crt, root.spec.issuingCA.key, 'machine.ca');
      const wanted = trustdCertificatePlans(lifetimes, sans.spec).map((plan) => ({ ...plan, ca }));
      return writeIssuedSet(rt, TrustdCertificates, TRUSTD_CERTIFICATES_ID, wanted, {
        acceptedCAs: root.spec.acceptedCAs,
        audit,
        leafKeys,
      });
    },
  };
}

export function trustdCertificatePlans(lifetimes: CertificateLifetimes, sans: SplitSans): CertificatePlan[] {
  return [{ name: 'server', issuer: 'os', request: certificateRequest('trustd-server', 'trustd', [], lifetimes.trustdHours, sans) }];
}
