import { expect } from 'chai';
import { caVerdict } from '../../../src/controllers/status/ca-verdict.js';
import { describeCertificate } from '../../../src/controllers/status/describe-certificate.js';
import { securityFindings } from '../../../src/controllers/status/security-findings.js';
import type { CertificateStatusSpec } from '../../../src/resources/certificate-status.js';
import { opensslCA } from '../../support/hostile-cas.js';

describe('CertificateStatus of a CA', () => {
  const now = new Date();

  it('reports a CA whose keyUsage lacks keyCertSign as Invalid (not Valid), and SecurityStatus raises CAInvalid', () => {
    const crt = opensslCA({ keyUsage: 'critical,digitalSignature' }).crt;
    const verdict = caVerdict({ name: 'os', crt, accepted: [crt] }, describeCertificate(crt), now);
    expect(verdict.state).to.equal('Invalid');
    expect(verdict.message).to.match(/keyUsage lacks keyCertSign.*replace it: trustctl rotate-ca --talos$/);

    const d = describeCertificate(crt);
    const spec: CertificateStatusSpec = {
      source: { type: 'RootSecrets', id: 'os', name: 'ca' },
      kind: 'ca',
      issuerCA: 'os',
      ...d.fields,
      autoRenewed: false,
      state: verdict.state,
      message: verdict.message,
      chainsToAcceptedCA: true,
      failures: 0,
    };
    const findings = securityFindings([{ id: 'ca-os', spec }], now);
    expect(findings.map((f) => [f.severity, f.code])).to.deep.equal([['critical', 'CAInvalid']]);
  });

  it('reports a sound CA (keyCertSign, CA:TRUE) as Valid', () => {
    const crt = opensslCA().crt;
    const d = describeCertificate(crt);
    // an hour into its life: openssl stamped notBefore with its own clock, after this test's `now` was taken
    expect(caVerdict({ name: 'etcd', crt, accepted: [crt] }, d, new Date(d.notBefore.getTime() + 3_600_000)).state).to.equal('Valid');
  });
});
