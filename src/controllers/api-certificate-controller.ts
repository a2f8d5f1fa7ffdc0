// Issues the apid server certificate (node SANs) and, on control-plane nodes, the impersonator client certificate,
// from the Talos OS CA. Workers get theirs from trustd (src/server); until then the set shows as pending.
import { caFromPemCached as caFromPem } from './certificate-cache.js';
import { idle, input, exclusive } from '../runtime/controller.js';
import type { Controller } from '../runtime/controller.js';
import { CertSANs } from '../resources/cert-sans.js';
import { ApiCertificates } from '../resources/issued-certificates.js';
import { OSRootSecrets } from '../resources/root-secrets.js';
import { CERT_SANS_ID } from './cert-sans-controller.js';
import { certificateRequest } from './issuing/certificate-request.js';
import { writeIssuedSet } from './issuing/write-issued-set.js';
import type { CertificateLifetimes } from './lifetimes.js';
import { DEFAULT_LIFETIMES } from './lifetimes.js';
import { OS_ROOT_ID } from './os-root-secrets-controller.js';

export const API_CERTIFICATES_ID = 'api';
export const WORKER_PENDING = 'waiting for trustd: workers receive their apid certificate from a control-plane node';

export function apiCertificateController(lifetimes: CertificateLifetimes = DEFAULT_LIFETIMES): Controller {
  return {
    name: 'ApiCertificateController',
    inputs: [input(OSRootSecrets, 'secrets', OS_ROOT_ID), input(CertSANs, 'secrets', CERT_SANS_ID)],
    outputs: [exclusive(ApiCertificates)],

    async reconcile(rt) {
      const root = await rt.get(OSRootSecrets, OS_ROOT_ID);
      const sans = await rt.get(CertSANs, CERT_SANS_ID);
      if (!root || !sans) return idle('waiting for OS root secrets and certSANs');
      const { acceptedCAs } = root.spec;

      if (root.spec.machineType === 'worker') {
        await rt.modify(ApiCertificates, API_CERTIFICATES_ID, (current) => ({
          certificates: current?.spec.certificates ?? {},
          acceptedCAs,
          pending: WORKER_PENDING,
        }));
        return idle(WORKER_PENDING);
      }

      const ca = caFromPem(root.spec.issuingCA.crt, root.spec.issuingCA.key);
      return writeIssuedSet(
        rt,
        ApiCertificates,
        API_CERTIFICATES_ID,
        [
          {
            name: 'server',
            issuer: 'os',
            ca,
            request: certificateRequest('node-server', 'talos-node', [], lifetimes.apiServerHours, sans.spec),
          },
          {
            name: 'impersonator',
            issuer: 'os',
            ca,
            request: certificateRequest('impersonator', 'impersonator', ['os:impersonator'], lifetimes.impersonatorHours),
          },
        ],
        { acceptedCAs },
      );
    },
  };
}
