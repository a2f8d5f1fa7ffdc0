import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse } from 'yaml';
import { contextCredentials, parseTalosconfig } from '../../src/config/index.js';
import { openssl, x509Text } from '../pki/openssl.js';
import { fixturePath } from '../config/support/talos-fixtures.js';
import { CLI, Sandbox } from '../config/support/run-trustctl.js';

const SECRETS = fixturePath('secrets', 'secrets.yaml');
const DAY = 86_400_000;
const hasYq = spawnSync('sh', ['-c', 'command -v yq'], { encoding: 'utf8' }).status === 0;

/** The client certificate facts the Talos PKI page expects `openssl x509 -noout -text` to show. */
function expectAdminClientCertificate(text: string): void {
  expect(text).to.match(/Subject: O ?= ?os:admin, CN ?= ?talosctl-client/);
  expect(text).to.match(/X509v3 Extended Key Usage: *\n *TLS Web Client Authentication\n/);
  const notBefore = Date.parse(/Not Before: (.*)/.exec(text)![1]);
  const notAfter = Date.parse(/Not After : (.*)/.exec(text)![1]);
  // 365 days from issuance; notBefore is backdated a few minutes for clock skew
  expect(notAfter - notBefore).to.be.within(365 * DAY, 365 * DAY + 10 * 60_000);
}

describe('trustctl config info: certificates as PEM and the Talos PKI page pipeline', () => {
  let box: Sandbox;
  beforeEach(async () => {
    box = new Sandbox();
    const r = await box.run(['gen', 'config', 'prod', 'https://10.5.0.2:6443', '--with-secrets', SECRETS, '--output-types', 'talosconfig', '-o', dirname(box.talosconfig)]);
    expect(r.code, r.stderr).to.equal(0);
    writeFileSync(box.talosconfig, readFileSync(`${dirname(box.talosconfig)}/talosconfig`));
  });
  afterEach(() => box.remove());

  const bash = (script: string) => spawnSync('bash', ['-c', `set -o pipefail; ${script}`], { cwd: box.dir, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: box.home, TALOSCONFIG: box.talosconfig } });

  it('--crt prints the client certificate as PEM: O=os:admin, CN=talosctl-client, 365 days, TLS Web Client Authentication', async () => {
    const r = await box.run(['config', 'info', '--crt']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\n$/);
    expectAdminClientCertificate(x509Text(r.stdout));
  });

  it('--ca prints the CA, which openssl verifies the client certificate against', async () => {
    const ca = await box.run(['config', 'info', '--ca']);
    const crt = await box.run(['config', 'info', '--crt']);
    expect(ca.code, ca.stderr).to.equal(0);
    const { caPem } = contextCredentials('prod', parseTalosconfig(readFileSync(box.talosconfig, 'utf8')).contexts.prod);
    expect(ca.stdout).to.equal(caPem);
    writeFileSync(box.path('ca.crt'), ca.stdout);
    writeFileSync(box.path('client.crt'), crt.stdout);
    const verify = openssl(['verify', '-purpose', 'sslclient', '-CAfile', box.path('ca.crt'), box.path('client.crt')]);
    expect(verify.ok, verify.out).to.equal(true);
  });

  it('--base64=false prints the context as talosconfig YAML (ca, crt base64 as in the file) without the private key', async () => {
    const r = await box.run(['config', 'info', '--base64=false']);
    expect(r.code, r.stderr).to.equal(0);
    const file = parseTalosconfig(readFileSync(box.talosconfig, 'utf8'));
    const printed = parse(r.stdout) as { context: string; contexts: Record<string, Record<string, unknown>> };
    expect(printed.context).to.equal('prod');
    expect(printed.contexts.prod).to.deep.equal({ endpoints: ['10.5.0.2'], ca: file.contexts.prod.ca, crt: file.contexts.prod.crt });
    expect(r.stdout).not.to.contain(file.contexts.prod.key);
  });

  it("the page's pipeline works with yq -r (the README's form): config info --base64=false | yq -r '.contexts[.context].crt' | base64 -d | openssl x509 -noout -text", function () {
    // Debian's yq (a jq wrapper) prints strings JSON-quoted unless -r, which base64 -d cannot read; README says so.
    if (!hasYq) this.skip();
    const r = bash(`"${process.execPath}" ${CLI} config info --base64=false | yq -r '.contexts[.context].crt' | base64 -d | openssl x509 -noout -text`);
    expect(r.status, r.stderr).to.equal(0);
    expectAdminClientCertificate(r.stdout);
  });

  it("the page's chain check works with the README's lowercase path: yq -r '.certs.os.crt' secrets.yaml, then openssl verify", function () {
    if (!hasYq) this.skip();
    const r = bash(
      `yq -r '.certs.os.crt' ${SECRETS} | base64 -d > ca.crt && "${process.execPath}" ${CLI} config info --base64=false | yq -r '.contexts[.context].crt' | base64 -d > client.crt && openssl verify -CAfile ca.crt client.crt`,
    );
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.equal('client.crt: OK\n');
  });

  it('refuses two output choices at once, and a --base64 value that is not true or false, writing nothing', async () => {
    const before = readFileSync(box.talosconfig, 'utf8');
    const both = await box.run(['config', 'info', '--crt', '--ca']);
    expect(both.code).to.equal(1);
    expect(both.stderr).to.equal('error: config info: --crt and --ca choose different outputs; give one of them\n');
    expect(both.stdout).to.equal('');
    const json = await box.run(['config', 'info', '--crt', '-o', 'json']);
    expect(json.stderr).to.equal('error: config info: --crt and -o json choose different outputs; give one of them\n');
    const bad = await box.run(['config', 'info', '--base64=no']);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.contain("option '--base64 <bool>' argument 'no' is invalid. Allowed choices are true, false.");
    expect(readFileSync(box.talosconfig, 'utf8')).to.equal(before);
  });

  it('says which context has no client certificate to print', async () => {
    writeFileSync(box.talosconfig, 'context: bare\ncontexts:\n    bare:\n        endpoints: [10.5.0.2]\n');
    const r = await box.run(['config', 'info', '--crt']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.equal(`error: talosconfig "${box.talosconfig}": contexts.bare.crt is empty, so there is no client certificate to print\n`);
  });
});
