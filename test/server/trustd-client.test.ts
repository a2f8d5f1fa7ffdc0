import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { DateTime } from 'luxon';
import { createCA, generateKeyPairSync, issueCertificate, encodePrivateKeyPem } from '../../src/pki/index.js';
import type { TrustdResponse } from '../../src/resources/index.js';
import { endpointFromControlPlane, formatEndpoint, parseEndpoint } from '../../src/server/trustd-client/index.js';
import { requestVerdict } from '../../src/server/trustd-client/request-policy.js';
import { trustdResponseProblem } from '../../src/controllers/api-certificate-controller.js';

describe('trustd client: endpoints', () => {
  it('parses HOST:PORT, [v6]:PORT and a bare host (port 50001)', () => {
    expect(parseEndpoint('10.5.0.2:50001')).to.deep.equal({ host: '10.5.0.2', port: 50001 });
    expect(parseEndpoint('cp.example.test')).to.deep.equal({ host: 'cp.example.test', port: 50001 });
    expect(parseEndpoint('[fd00::1]:6000')).to.deep.equal({ host: 'fd00::1', port: 6000 });
    expect(formatEndpoint({ host: 'fd00::1', port: 6000 })).to.equal('[fd00::1]:6000');
  });

  it('refuses a malformed endpoint, naming the value and the expected form', () => {
    expect(() => parseEndpoint('fd00::1:50001', '--trustd-endpoint')).to.throw('--trustd-endpoint "fd00::1:50001": expected HOST:PORT, e.g. 10.5.0.2:50001 or [fd00::1]:50001');
    expect(() => parseEndpoint('10.5.0.2:70000')).to.throw('port must be 1-65535');
  });

  it("derives trustd's endpoint from cluster.controlPlane.endpoint: its host on port 50001", () => {
    expect(endpointFromControlPlane('https://10.5.0.2:6443')).to.deep.equal({ host: '10.5.0.2', port: 50001 });
    expect(endpointFromControlPlane('https://[fd00::1]:6443')).to.deep.equal({ host: 'fd00::1', port: 50001 });
    expect(endpointFromControlPlane('https://kube.example.test')).to.deep.equal({ host: 'kube.example.test', port: 50001 });
    expect(endpointFromControlPlane('not a url')).to.equal(undefined);
  });
});

describe('trustd client: when to ask and what to accept', function () {
  this.timeout(30_000);
  const now = DateTime.fromISO('2026-11-25T00:00:00Z').toJSDate();
  const sans = { ips: ['10.5.0.3'], dnsNames: ['worker-1'] };
  let osCA: Awaited<ReturnType<typeof createCA>>;
  let otherCA: Awaited<ReturnType<typeof createCA>>;
  const key = generateKeyPairSync('ecdsa');
  const keyPem = encodePrivateKeyPem(key);

  before(async () => {
    osCA = await createCA('os', { algorithm: 'ecdsa', now });
    otherCA = await createCA('os', { algorithm: 'ecdsa', now });
  });

  const response = (ca = osCA, o: Partial<TrustdResponse> = {}): TrustdResponse => ({
    crt: issueCertificate(ca, 'node-server', { publicKey: key.publicKey, now, dnsNames: sans.dnsNames, ipAddresses: sans.ips }).certPem,
    key: keyPem,
    ca: ca.certPem,
    sans,
    requestedAt: now.toISOString(),
    renewAt: new Date(now.getTime() + 18 * 3_600_000).toISOString(),
    reason: 'DoesNotExist',
    endpoint: '10.5.0.2:50001',
    ...o,
  });
  const at = (hours: number) => new Date(now.getTime() + hours * 3_600_000);

  it('asks when there is no answer, SANs changed, the CA is no longer accepted, or renewal time came; else keeps it', () => {
    const accepted = [osCA.certPem];
    expect(requestVerdict({ response: undefined, sans, acceptedCAs: accepted, now })?.reason).to.equal('DoesNotExist');
    expect(requestVerdict({ response: response(), sans: { ...sans, dnsNames: ['worker-2'] }, acceptedCAs: accepted, now })?.reason).to.equal('RequestChanged');
    expect(requestVerdict({ response: response(otherCA), sans, acceptedCAs: accepted, now })?.reason).to.equal('IncorrectIssuer');
    expect(requestVerdict({ response: response(), sans, acceptedCAs: accepted, now: at(18) })?.reason).to.equal('Renewing');
    expect(requestVerdict({ response: response(), sans, acceptedCAs: accepted, now: at(17.9) })).to.equal(undefined);
  });

  it('accepts only a certificate for its key, chaining to an accepted OS CA, with exactly its SANs', () => {
    const accepted = [osCA.certPem];
    expect(trustdResponseProblem(response(), accepted, sans, now)).to.equal(undefined);
    expect(trustdResponseProblem({ ...response(), key: encodePrivateKeyPem(generateKeyPairSync('ecdsa')) }, accepted, sans, now)).to.equal('the private key does not match the certificate');
    expect(trustdResponseProblem(response(otherCA), accepted, sans, now)).to.equal('it does not chain to an accepted OS CA: x509: certificate signed by unknown authority');
    expect(trustdResponseProblem(response(), accepted, { ...sans, ips: ['10.5.0.4'] }, now)).to.match(/^its SANs \(worker-1,10\.5\.0\.3\) differ from the node's \(worker-1,10\.5\.0\.4\)$/);
    expect(trustdResponseProblem(response(), accepted, sans, at(25))).to.match(/^it does not chain to an accepted OS CA: x509: certificate has expired/);
    const client = issueCertificate(osCA, 'talos-client', { publicKey: key.publicKey, now, ipAddresses: sans.ips, dnsNames: sans.dnsNames }).certPem;
    expect(trustdResponseProblem({ crt: client, key: keyPem }, accepted, sans, now)).to.match(/serverAuth/);
    expect(new X509Certificate(response().crt).ca).to.equal(false);
  });
});
