import { expect } from 'chai';
import { certificateRequest } from '../../../src/controllers/issuing/certificate-request.js';
import { issueSet } from '../../../src/controllers/issuing/issue-set.js';
import { createCA, inspectCertificate } from '../../../src/pki/index.js';
import { sharedKey } from '../../pki/shared-keys.js';

describe('issuing a set: a lifetime past the CA', () => {
  const now = new Date('2026-06-01T00:00:00Z');

  it('ends the certificate with the CA and says so in the issue message; a lifetime inside the CA says nothing', async () => {
    const ca = await createCA('os', { key: sharedKey('ecdsa'), now, validityHours: 48 });
    const caEnd = inspectCertificate(ca.cert).notAfter;
    const wanted = [
      { name: 'long', issuer: 'os' as const, ca, request: certificateRequest('node-server', 'talos-node', [], 8760) },
      { name: 'short', issuer: 'os' as const, ca, request: certificateRequest('node-server', 'talos-node', [], 24) },
    ];
    const result = await issueSet('api', {}, wanted, now);
    expect(inspectCertificate(result.certificates.long.crt).notAfter).to.deep.equal(caEnd);
    const [long, short] = result.issued;
    expect(long.message).to.match(new RegExp(`; ends with the os CA at ${caEnd.toISOString()}, before the 8760h asked for$`));
    expect(short.message).to.not.contain('ends with');
  });
});
