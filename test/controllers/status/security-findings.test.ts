// The SecurityStatus checks, one finding at a time, over hand-made certificate statuses: what fires, its severity and
// code, the subject it names and the fix it gives; and that a healthy node has none.
import { expect } from 'chai';
import { securityFindings } from '../../../src/controllers/status/security-findings.js';
import type { Observed } from '../../../src/controllers/status/security-findings.js';
import type { CertificateStatusSpec } from '../../../src/resources/certificate-status.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const DAY = 86_400_000;
const iso = (days: number) => new Date(NOW.getTime() + days * DAY).toISOString();

function status(over: Partial<CertificateStatusSpec>): CertificateStatusSpec {
  return {
    source: { type: 'ApiCertificates', id: 'api', name: 'server' },
    kind: 'leaf',
    issuerCA: 'os',
    subject: 'CN=cp-1',
    issuer: 'O=talos',
    serial: '01',
    sha256Fingerprint: 'AA',
    dnsNames: [],
    ipAddresses: [],
    keyAlgorithm: 'EC',
    keySize: 256,
    notBefore: iso(-1),
    notAfter: iso(364),
    renewalTime: iso(250),
    autoRenewed: true,
    state: 'Valid',
    message: 'renews later',
    chainsToAcceptedCA: true,
    failures: 0,
    ...over,
  };
}

const ca = (over: Partial<CertificateStatusSpec> = {}): Observed => ({
  id: 'os-ca',
  spec: status({ kind: 'ca', subject: 'O=talos', notBefore: iso(-100), notAfter: iso(3550), renewalTime: undefined, autoRenewed: false, ...over }),
});
const leaf = (over: Partial<CertificateStatusSpec> = {}): Observed => ({ id: 'api-server', spec: status(over) });
const codes = (all: Observed[]) => securityFindings(all, NOW).map((f) => `${f.severity}:${f.code}:${f.subject}`);

describe('security findings (one check at a time)', () => {
  it('finds nothing on a healthy node', () => {
    expect(securityFindings([ca(), leaf()], NOW)).to.deep.equal([]);
  });

  it('CAExpired (critical) and CAExpiringSoon (warning), each with the rotate-ca command for that CA', () => {
    const expired = securityFindings([ca({ notAfter: iso(-1) })], NOW);
    expect(expired.map((f) => f.code)).to.deep.equal(['CAExpired']);
    expect(expired[0].severity).to.equal('critical');
    expect(expired[0].message).to.include('trustctl rotate-ca --talos');
    const soon = securityFindings([ca({ issuerCA: 'etcd', notBefore: iso(-3000), notAfter: iso(100) })], NOW);
    expect(soon.map((f) => `${f.severity}:${f.code}`)).to.deep.equal(['warning:CAExpiringSoon']);
    expect(soon[0].message).to.include('trustctl rotate-ca --etcd');
  });

  it('CAExpiresBeforeLeafRenewal names the leaf whose renewal comes after its CA is gone', () => {
    const findings = securityFindings([ca({ notBefore: iso(-3600), notAfter: iso(200) }), leaf({ renewalTime: iso(250) })], NOW);
    expect(findings.map((f) => `${f.code}:${f.subject}`)).to.include('CAExpiresBeforeLeafRenewal:api-server');
    // A leaf of another CA is not this CA's concern.
    expect(codes([ca({ notBefore: iso(-3600), notAfter: iso(200) }), leaf({ issuerCA: 'etcd', renewalTime: iso(250) })])).not.to.include('warning:CAExpiresBeforeLeafRenewal:api-server');
  });

  it('WeakKey for RSA under 2048 bits, not at 2048', () => {
    expect(codes([leaf({ keyAlgorithm: 'RSA', keySize: 1024 })])).to.deep.equal(['critical:WeakKey:api-server']);
    expect(codes([leaf({ keyAlgorithm: 'RSA', keySize: 2048 })])).to.deep.equal([]);
  });

  it('UntrustedChain for a leaf that does not chain, but not while it is still Pending', () => {
    expect(codes([leaf({ chainsToAcceptedCA: false, state: 'Valid' })])).to.deep.equal(['critical:UntrustedChain:api-server']);
    expect(codes([leaf({ chainsToAcceptedCA: false, state: 'Pending' })])).to.deep.equal([]);
  });

  it('ClockSkew for a NotYetValid certificate or one issued in the future', () => {
    expect(codes([leaf({ state: 'NotYetValid' })])).to.deep.equal(['warning:ClockSkew:api-server']);
    expect(codes([leaf({ lastRenewal: iso(1) })])).to.deep.equal(['warning:ClockSkew:api-server']);
  });

  it('CertificateExpired / CertificateInvalid carry the status message; CAInvalid for a CA that cannot sign', () => {
    const expired = securityFindings([leaf({ state: 'Expired', message: 'expired at X' })], NOW);
    expect(expired).to.deep.equal([{ severity: 'critical', code: 'CertificateExpired', subject: 'api-server', message: 'expired at X' }]);
    expect(codes([ca({ state: 'Invalid', message: 'no keyCertSign' })])).to.deep.equal(['critical:CAInvalid:os-ca']);
  });

  it('IssuanceFailing with the count, the last error and the next retry', () => {
    const [f] = securityFindings([leaf({ failures: 3, lastFailure: 'trustd unreachable', nextRetry: iso(1) })], NOW);
    expect(f).to.deep.equal({ severity: 'warning', code: 'IssuanceFailing', subject: 'api-server', message: `issuance failed 3 time(s): trustd unreachable; next retry ${iso(1)}` });
  });
});
