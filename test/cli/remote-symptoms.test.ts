import { expect } from 'chai';
import { mkdirSync, writeFileSync } from 'node:fs';
import { formatTalosconfig, issueClientCertificate, newContext } from '../../src/config/index.js';
import { EXPIRED_SYMPTOM, UNKNOWN_AUTHORITY_SYMPTOM, serverCertificateSymptom } from '../../src/cli/tls-symptoms.js';
import { generateSecretsBundleFor } from '../server/apid-pki.js';
import { RemoteBox } from './remote-support.js';

const HOUR = 3_600_000;

describe('trustctl prints the Talos docs symptom lines for certificate failures, then what to do', function () {
  let box: RemoteBox;
  before(async () => {
    box = await RemoteBox.open();
    mkdirSync(box.path('tc'), { recursive: true });
  });
  after(async () => box?.close());

  /** The stderr of `get cs` with a talosconfig made of this CA and client certificate. */
  async function getWith(name: string, caPem: string, client: { crt: string; key: string }): Promise<{ code: number | null; stderr: string; stdout: string }> {
    const path = box.path('tc', name);
    writeFileSync(path, formatTalosconfig({ context: name, contexts: { [name]: newContext([box.a.address], { caPem, crtPem: client.crt, keyPem: client.key }) } }), { mode: 0o600 });
    return box.run(['--talosconfig', path, 'get', 'cs']);
  }

  it('an expired client certificate: "failed to connect: x509: certificate has expired", apid\'s exact reason, and how to get a new one', async () => {
    const os = box.a.bundle.certs.os;
    const expired = await issueClientCertificate(os, { roles: ['os:admin'], validityHours: 1, now: new Date(box.a.now().getTime() - 2 * HOUR) });
    const r = await getWith('expired', os.crt, expired);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.equal('');
    const lines = r.stderr.split('\n');
    const at = lines.findIndex((l) => l.endsWith(EXPIRED_SYMPTOM));
    expect(at, r.stderr).to.be.greaterThan(-1);
    expect(lines[at]).to.equal(`error: 127.0.0.1: ${EXPIRED_SYMPTOM}`);
    expect(lines[at + 1]).to.match(/^ {4}the node refused your client certificate: x509: certificate has expired or is not yet valid: current time \S+ is after \S+$/);
    expect(lines[at + 2]).to.equal(
      '    fix: get a new client certificate: `trustctl config new --with-secrets secrets.yaml` (or `trustctl gen config <cluster> <endpoint> --with-secrets secrets.yaml --output-types talosconfig`), or ask an admin for a new talosconfig',
    );
  });

  it('a client certificate from another cluster: "failed to verify certificate: x509: certificate signed by unknown authority"', async () => {
    const other = await generateSecretsBundleFor(box.a.now());
    const stranger = await issueClientCertificate(other.certs.os, { roles: ['os:admin'], now: box.a.now() });
    const r = await getWith('stranger', box.a.bundle.certs.os.crt, stranger);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain(`error: 127.0.0.1: ${UNKNOWN_AUTHORITY_SYMPTOM}\n    the node refused your client certificate: it was not signed by a CA this cluster accepts`);
  });

  it("a node certificate that does not chain to the talosconfig's CA: the same symptom line, naming the endpoint and the fix", async () => {
    const other = await generateSecretsBundleFor(box.a.now());
    const os = box.a.bundle.certs.os;
    const r = await getWith('wrong-ca', other.certs.os.crt, await issueClientCertificate(os, { roles: ['os:admin'], now: box.a.now() }));
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain(
      `${UNKNOWN_AUTHORITY_SYMPTOM}\n    the node's certificate does not chain to the CA in your talosconfig\n    fix: check you use the right talosconfig (\`trustctl config info\`); after a CA rotation use the talosconfig trustctl rotate-ca wrote\n    (endpoint ${box.a.address})`,
    );
  });

  it("an expired node certificate (OpenSSL's CERT_HAS_EXPIRED) is said in the same words; other failures are left as they are", () => {
    expect(serverCertificateSymptom('CERT_HAS_EXPIRED')?.split('\n')[0]).to.equal(EXPIRED_SYMPTOM);
    expect(serverCertificateSymptom('ECONNREFUSED')).to.equal(undefined);
  });
});
