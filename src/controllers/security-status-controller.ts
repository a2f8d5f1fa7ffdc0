// Rolls every CertificateStatus up into one SecurityStatus: the worst state, the soonest expiry, each CA, and findings.
import { exclusive, idle, input } from '../runtime/controller.js';
import type { Controller } from '../runtime/controller.js';
import { CARotations } from '../resources/ca-rotation.js';
import { CertificateStatuses } from '../resources/certificate-status.js';
import { ExtraAcceptedCAs } from '../resources/extra-accepted-cas.js';
import { OSRootSecrets } from '../resources/root-secrets.js';
import type { OSRootSecretsSpec } from '../resources/root-secrets.js';
import { TOKEN_POLICY_ID, TokenPolicies } from '../resources/token-policy.js';
import { Revocations } from '../resources/revocations.js';
import type { RevocationSpec } from '../resources/revocations.js';
import type { CertificateState } from '../resources/certificate-status.js';
import { SECURITY_STATUS_ID, SecurityStatuses } from '../resources/security-status.js';
import type { Finding, SecurityStatusSpec } from '../resources/security-status.js';
import { worseState } from './status/certificate-state.js';
import { OS_ROOT_ID } from './os-root-secrets-controller.js';
import { presentedFindings, revocationFindings } from './status/revocation-findings.js';
import { securityFindings } from './status/security-findings.js';
import { staticTokenFinding } from './status/static-token-finding.js';

export interface SecurityStatusOptions {
  /** Whether the store encrypts sensitive resources at rest (known to whoever opened it). */
  encryptedAtRest: boolean;
  /** Findings about where the store lives (e.g. a state directory found writable by others), from whoever opened it. */
  storeFindings?: readonly Finding[];
}

export function securityStatusController(options: SecurityStatusOptions): Controller {
  return {
    name: 'SecurityStatusController',
    inputs: [
      input(CertificateStatuses, 'runtime'),
      input(CARotations, 'runtime'),
      input(ExtraAcceptedCAs, 'config'),
      input(OSRootSecrets, 'secrets', OS_ROOT_ID),
      input(TokenPolicies, 'secrets', TOKEN_POLICY_ID),
      input(Revocations, 'secrets'),
    ],
    outputs: [exclusive(SecurityStatuses)],

    async reconcile(rt) {
      const statuses = (await rt.list(CertificateStatuses, 'runtime')).map((r) => ({ id: r.metadata.id, spec: r.spec }));
      const now = rt.clock.now().toJSDate();
      const findings = securityFindings(statuses, now);
      const revoked = await rt.list(Revocations, 'secrets');
      const revocations = new Map(revoked.map((r): [string, RevocationSpec] => [r.metadata.id, r.spec]));
      findings.push(...revocationFindings(statuses, revocations, now), ...presentedFindings(revoked, now));
      // Expected while a rotation of the etcd or aggregator CA runs; said, so a trust nobody removed does not go unseen.
      for (const extra of await rt.list(ExtraAcceptedCAs, 'config')) {
        const { crts, reason } = extra.spec;
        findings.push({ severity: 'info', code: 'ExtraAcceptedCAs', subject: `ExtraAcceptedCAs/${extra.metadata.id}`, message: `the ${extra.metadata.id} CA: ${crts.length} CA(s) trusted besides the machine config's (${reason}); the rotation removes them when it drops the old CA` });
      }
      const root = await rt.get<OSRootSecretsSpec>(OSRootSecrets, OS_ROOT_ID);
      const staticToken = staticTokenFinding(root?.spec.machineType, (await rt.get(TokenPolicies, TOKEN_POLICY_ID))?.spec.staticToken ?? 'accepted');
      if (staticToken) findings.push(staticToken);
      findings.push(...(options.storeFindings ?? []));
      if (!options.encryptedAtRest) {
        findings.push({ severity: 'warning', code: 'NotEncryptedAtRest', subject: 'store', message: 'private keys are stored unencrypted; give the store a key (see trustctl serve --help)' });
      }
      let worst: CertificateState = 'Valid';
      let soonest: SecurityStatusSpec['soonestExpiry'];
      for (const s of statuses) {
        worst = worseState(worst, s.spec.state);
        if (s.spec.notAfter && (!soonest || s.spec.notAfter < soonest.notAfter)) soonest = { certificate: s.id, notAfter: s.spec.notAfter };
      }
      const spec: SecurityStatusSpec = {
        healthy: !findings.some((f) => f.severity !== 'info'),
        worstState: worst,
        certificates: statuses.length,
        ...(soonest ? { soonestExpiry: soonest } : {}),
        cas: statuses
          .filter((s) => s.spec.kind === 'ca' && s.spec.notAfter)
          .map((s) => ({ name: s.spec.issuerCA, algorithm: s.spec.keyAlgorithm, notAfter: s.spec.notAfter! })),
        rotationInProgress: (await rt.list(CARotations, 'runtime')).filter((r) => r.spec.phase !== 'Done').map((r) => `${r.metadata.id}: ${r.spec.phase}`),
        encryptedAtRest: options.encryptedAtRest,
        revocations: [...revocations.values()].filter((r) => Date.parse(r.notAfter) > now.getTime()).length,
        findings,
      };
      await rt.modify(SecurityStatuses, SECURITY_STATUS_ID, () => spec);
      return idle(spec.healthy ? 'healthy' : `${findings.length} finding(s)`);
    },
  };
}
