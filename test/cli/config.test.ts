import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse } from 'yaml';
import { contextCredentials, formatTalosconfig, newContext, parseTalosconfig } from '../../src/config/index.js';
import { opensslFiles, x509Text } from '../pki/openssl.js';
import { fixturePath } from '../config/support/talos-fixtures.js';
import { Sandbox } from '../config/support/run-trustctl.js';

const SECRETS = fixturePath('secrets', 'secrets.yaml');
const HOUR = 3_600_000;

describe('trustctl config', () => {
  let box: Sandbox;
  beforeEach(() => (box = new Sandbox()));
  afterEach(() => box.remove());

  /** A talosconfig for cluster `prod` from `gen config`, at the sandbox's $TALOSCONFIG. */
  async function genTalosconfig(name = 'prod'): Promise<void> {
    const r = await box.run(['gen', 'config', name, 'https://10.5.0.2:6443', '--with-secrets', SECRETS, '--output-types', 'talosconfig', '-o', dirname(box.talosconfig)]);
    expect(r.code, r.stderr).to.equal(0);
    writeFileSync(box.talosconfig, readFileSync(`${dirname(box.talosconfig)}/talosconfig`));
  }

  describe('info', () => {
    it('prints the current context, nodes, endpoints, roles and when the certificate expires', async () => {
      await genTalosconfig();
      const r = await box.run(['config', 'info']);
      expect(r.code, r.stderr).to.equal(0);
      const notAfter = new X509Certificate(contextCredentials('prod', parseTalosconfig(readFileSync(box.talosconfig, 'utf8')).contexts.prod).crtPem).validTo;
      expect(r.stdout).to.equal(
        [
          'Current context:     prod',
          'Nodes:               not defined',
          'Endpoints:           10.5.0.2',
          'Roles:               os:admin',
          `Certificate expires: 1 year from now (${new Date(notAfter).toISOString().slice(0, 10)})`,
          '',
        ].join('\n'),
      );
    });

    it('prints the same facts as JSON and YAML', async () => {
      await genTalosconfig();
      const json = await box.run(['config', 'info', '-o', 'json']);
      const info = JSON.parse(json.stdout) as Record<string, unknown>;
      expect(info).to.include({ context: 'prod', certTTL: '1 year from now' });
      expect(info.endpoints).to.deep.equal(['10.5.0.2']);
      expect(info.roles).to.deep.equal(['os:admin']);
      const yaml = await box.run(['config', 'info', '-o', 'yaml']);
      expect(parse(yaml.stdout)).to.deep.equal(info);
    });

    it('says how to get a talosconfig when there is none', async () => {
      const r = await box.run(['config', 'info']);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.equal(`error: talosconfig "${box.talosconfig}" has no contexts: create one with \`trustctl gen config\` and add it with \`trustctl config merge\`\n`);
      expect(box.files()).to.deep.equal([]);
    });

    it('says which contexts exist when the current one is missing', async () => {
      writeFileSync(box.path('tc'), formatTalosconfig({ context: 'gone', contexts: { a: newContext([], { caPem: '', crtPem: '', keyPem: '' }) } }));
      const r = await box.run(['config', 'info', '--talosconfig', box.path('tc')]);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.equal('error: context "gone" is not defined (defined: a)\n');
    });
  });

  describe('new', () => {
    it('issues a reader certificate offline with the given lifetime, in a context named reader@<cluster>', async () => {
      await genTalosconfig();
      const r = await box.run(['config', 'new', '--roles', 'os:reader', '--crt-ttl', '24h', '-o', 'reader', '--with-secrets', SECRETS]);
      expect(r.code, r.stderr).to.equal(0);
      expect(box.mode('reader')).to.equal(0o600);
      const config = parseTalosconfig(readFileSync(box.path('reader'), 'utf8'));
      expect(config.context).to.equal('reader@prod');
      const { caPem, crtPem } = contextCredentials('reader@prod', config.contexts['reader@prod']);
      expect(config.contexts['reader@prod'].endpoints).to.deep.equal(['10.5.0.2']);
      const cert = new X509Certificate(crtPem);
      expect(new Date(cert.validTo).getTime() - Date.now()).to.be.within(23 * HOUR, 24 * HOUR);
      expect(x509Text(crtPem)).to.match(/Subject: O ?= ?os:reader/);
      const verify = opensslFiles(['verify', '-x509_strict', '-purpose', 'sslclient', '-CAfile', '{ca.pem}', '{c.pem}'], { 'ca.pem': caPem, 'c.pem': crtPem });
      expect(verify.ok, verify.out).to.equal(true);
    });

    it('signs with the OS CA of a control plane machine config and takes the cluster name from it', async () => {
      const r = await box.run(['config', 'new', '--roles', 'os:operator,os:reader', '--crt-ttl', '90m', '-o', 'ops', '--with-secrets', fixturePath('machineconfig', 'base-controlplane.yaml')]);
      expect(r.code, r.stderr).to.equal(0);
      const config = parseTalosconfig(readFileSync(box.path('ops'), 'utf8'));
      expect(config.context).to.equal('base');
      const { caPem, crtPem } = contextCredentials('base', config.contexts.base);
      expect(x509Text(crtPem)).to.match(/Subject: O ?= ?os:operator, O ?= ?os:reader/);
      expect(opensslFiles(['verify', '-x509_strict', '-CAfile', '{ca.pem}', '{c.pem}'], { 'ca.pem': caPem, 'c.pem': crtPem }).ok).to.equal(true);
    });

    it('issues for 365 days by default, as Talos does, and --help shows the default as 8760h', async () => {
      const r = await box.run(['config', 'new', '-o', 'year', '--with-secrets', SECRETS]);
      expect(r.code, r.stderr).to.equal(0);
      const config = parseTalosconfig(readFileSync(box.path('year'), 'utf8'));
      const cert = new X509Certificate(contextCredentials(config.context, config.contexts[config.context]).crtPem);
      // notBefore is backdated for clock skew; the lifetime counts from issuance
      expect(Date.parse(cert.validTo) - Date.now()).to.be.within(8760 * HOUR - 2 * 60_000, 8760 * HOUR);
      const help = await box.run(['config', 'new', '--help']);
      const crtTtl = help.stdout.replace(/\s+/g, ' ');
      expect(crtTtl).to.contain("--crt-ttl <duration> certificate lifetime (Go syntax: 24h, 8760h; from 1h to 876000h (100 years); never past the CA's own end) (default: 8760h)");
    });

    for (const ttl of ['0', '-1h', '0s']) {
      it(`refuses --crt-ttl ${ttl} with "crt_ttl should be positive" and writes nothing`, async () => {
        const r = await box.run(['config', 'new', '--crt-ttl', ttl, '-o', 'x', '--with-secrets', SECRETS]);
        expect(r.code).to.equal(1);
        expect(r.stderr).to.equal('error: crt_ttl should be positive\n');
        expect(box.files()).to.deep.equal([]);
      });
    }

    it('refuses a malformed --crt-ttl, naming the flag and the syntax', async () => {
      const r = await box.run(['config', 'new', '--crt-ttl', '1 day', '-o', 'x', '--with-secrets', SECRETS]);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.contain('--crt-ttl: invalid duration "1 day" (use Go syntax such as 24h, 8760h, 90m or 1h30m)');
      expect(box.files()).to.deep.equal([]);
    });

    it('refuses unknown roles, a worker config without the CA key and an existing file', async () => {
      const roles = await box.run(['config', 'new', '--roles', 'os:god', '-o', 'x', '--with-secrets', SECRETS]);
      expect(roles.stderr).to.match(/^error: --roles: unknown roles: os:god/);
      const worker = await box.run(['config', 'new', '-o', 'x', '--with-secrets', fixturePath('machineconfig', 'base-worker.yaml')]);
      expect(worker.code).to.equal(1);
      expect(worker.stderr).to.contain('the OS CA key is missing');
      expect(box.files()).to.deep.equal([]);
      writeFileSync(box.path('x'), 'keep');
      const exists = await box.run(['config', 'new', '-o', 'x', '--with-secrets', SECRETS]);
      expect(exists.stderr).to.equal('error: file "x" already exists, use --force to overwrite\n');
      expect(readFileSync(box.path('x'), 'utf8')).to.equal('keep');
    });
  });

  describe('merge, contexts and context', () => {
    it('creates ~/.talos/config (0600 in a 0700 dir) on first merge when $TALOSCONFIG is unset', async () => {
      const gen = await box.run(['gen', 'config', 'prod', 'https://10.5.0.2:6443', '--with-secrets', SECRETS, '--output-types', 'talosconfig']);
      expect(gen.code, gen.stderr).to.equal(0);
      const r = await box.run(['config', 'merge', 'talosconfig'], { TALOSCONFIG: undefined });
      expect(r.code, r.stderr).to.equal(0);
      const path = box.path('home', '.talos', 'config');
      expect(statSync(path).mode & 0o777).to.equal(0o600);
      expect(statSync(dirname(path)).mode & 0o777).to.equal(0o700);
      expect(parseTalosconfig(readFileSync(path, 'utf8')).context).to.equal('prod');
    });

    it('renames a clashing context on merge, reports it, and lists contexts with the current one starred', async () => {
      await genTalosconfig();
      const again = await box.run(['gen', 'config', 'prod', 'https://10.9.0.1:6443', '--with-secrets', SECRETS, '--output-types', 'talosconfig', '-o', 'second']);
      expect(again.code, again.stderr).to.equal(0);
      const merge = await box.run(['config', 'merge', 'second/talosconfig']);
      expect(merge.code, merge.stderr).to.equal(0);
      expect(merge.stderr).to.equal('renamed talosconfig context "prod" -> "prod-1"\n');
      const list = await box.run(['config', 'contexts']);
      expect(list.stdout).to.equal(['CURRENT   NAME     ENDPOINTS   NODES', '          prod     10.5.0.2', '*         prod-1   10.9.0.1', ''].join('\n'));

      const use = await box.run(['config', 'context', 'prod']);
      expect(use.code, use.stderr).to.equal(0);
      expect(parseTalosconfig(readFileSync(box.talosconfig, 'utf8')).context).to.equal('prod');
    });

    it('refuses to switch to an undefined context and leaves the file unchanged', async () => {
      await genTalosconfig();
      const before = readFileSync(box.talosconfig, 'utf8');
      const r = await box.run(['config', 'context', 'staging']);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.equal('error: context "staging" is not defined (defined: prod)\n');
      expect(readFileSync(box.talosconfig, 'utf8')).to.equal(before);
    });

    it('refuses to merge a file that does not exist, writing nothing', async () => {
      const r = await box.run(['config', 'merge', 'nope']);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.equal('error: cannot read "nope": no such file\n');
      expect(existsSync(box.talosconfig)).to.equal(false);
    });
  });
});
