import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { contextCredentials, parseSecretsBundle, parseTalosconfig } from '../../src/config/index.js';
import { inspectCertificate } from '../../src/pki/index.js';
import { Sandbox } from '../config/support/run-trustctl.js';
import { fixturePath } from '../config/support/talos-fixtures.js';
import { x509Info } from '../pki/openssl.js';

const SECRETS = fixturePath('secrets', 'secrets.yaml');
const RANGE = 'give a lifetime from 1h to 876000h (100 years)';

describe('lifetime flags: bounded, stated in --help, clamped to the CA with a note', () => {
  let box: Sandbox;
  beforeEach(() => (box = new Sandbox()));
  afterEach(() => box.remove());

  for (const [ttl, shown] of [
    ['99999999999h', '99999999999h'],
    ['1ns', '1ns'],
    ['59m', '59m'],
  ]) {
    it(`config new refuses --crt-ttl ${ttl} naming the flag and the bounds, and writes nothing`, async () => {
      const r = await box.run(['config', 'new', '--crt-ttl', ttl, '-o', 'x', '--with-secrets', SECRETS]);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.equal(`error: --crt-ttl: ${shown} is out of range; ${RANGE}\n`);
      expect(box.files()).to.deep.equal([]);
    });
  }

  it('config new --crt-ttl 876000h issues a certificate ending with the OS CA and says so', async () => {
    const r = await box.run(['config', 'new', '--crt-ttl', '876000h', '-o', 'x', '--with-secrets', SECRETS]);
    expect(r.code, r.stderr).to.equal(0);
    const caEnd = inspectCertificate(parseSecretsBundle(readFileSync(SECRETS, 'utf8')).certs!.os!.crt).notAfter;
    expect(r.stderr).to.equal(`note: --crt-ttl runs past the end of the CA; the certificate ends with the CA, at ${caEnd.toISOString()}\n`);
    const config = parseTalosconfig(readFileSync(box.path('x'), 'utf8'));
    expect(x509Info(contextCredentials(config.context, config.contexts[config.context]).crtPem).notAfter).to.deep.equal(caEnd);
  });

  it('serve refuses --api-lifetime 1s and 99999999999h before it opens or writes anything', async () => {
    for (const [value, shown] of [
      ['1s', '1s'],
      ['99999999999h', '99999999999h'],
    ]) {
      const r = await box.runProcess(['serve', '--once', '--state', box.path('state'), '--api-lifetime', value]);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.contain(`--api-lifetime: ${shown} is out of range; ${RANGE}`);
    }
    expect(box.files()).to.deep.equal([]);
  });

  it('states the bounds in --help of config new and serve', async () => {
    const bounds = 'from 1h to 876000h (100 years); never past the CA';
    expect((await box.run(['config', 'new', '--help'])).stdout.replace(/\s+/g, ' ')).to.contain(bounds);
    const serve = (await box.run(['serve', '--help'])).stdout.replace(/\s+/g, ' ');
    for (const flag of ['--api-lifetime', '--trustd-lifetime', '--etcd-lifetime', '--kubernetes-lifetime']) {
      expect(serve).to.match(new RegExp(`${flag} <duration> [^-]*${bounds.replace(/[()]/g, '\\$&')}`));
    }
  });
});
