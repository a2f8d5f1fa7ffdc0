import { expect } from 'chai';
import { parse } from 'yaml';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { contextCredentials, formatTalosconfig, issueClientCertificate, newContext, parseTalosconfig } from '../../src/config/index.js';
import type { Talosconfig } from '../../src/config/index.js';
import { configAdd } from '../../src/cli/config-add.js';
import { configEndpoints, configNodes } from '../../src/cli/config-endpoints.js';
import { configRemove } from '../../src/cli/config-remove.js';
import { bufferIo } from '../../src/cli/buffer-io.js';
import { readFixture } from '../config/support/talos-fixtures.js';
import { CLI, Sandbox } from '../config/support/run-trustctl.js';
import { rejection } from '../support/caught.js';

/** The OS CA of the Talos fixture bundle. */
function fixtureOsCA(): { crt: string; key: string } {
  const bundle = parse(readFixture('secrets', 'secrets.yaml')) as { certs: { os: { crt: string; key: string } } };
  const pem = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
  return { crt: pem(bundle.certs.os.crt), key: pem(bundle.certs.os.key) };
}


describe('trustctl config endpoint, node, add, remove (talosctl semantics)', () => {
  let box: Sandbox;
  let where: { talosconfig: string };
  const read = (): Talosconfig => parseTalosconfig(readFileSync(where.talosconfig, 'utf8'));
  const io = () => bufferIo({ env: box.env(), cwd: box.dir });
  const empty = newContext([], { caPem: '', crtPem: '', keyPem: '' });

  beforeEach(() => {
    box = new Sandbox();
    where = { talosconfig: box.path('talosconfig') };
    writeFileSync(where.talosconfig, formatTalosconfig({ context: 'prod', contexts: { prod: { ...empty, endpoints: ['controlplane'], nodes: ['10.5.0.2'] }, lab: { ...empty } } }), { mode: 0o600 });
  });
  afterEach(() => box.remove());

  describe('endpoint', () => {
    it('replaces the endpoints of the current context, trimmed, and leaves the others alone', async () => {
      await configEndpoints([' 10.5.0.2 ', '10.5.0.3:50001', 'cp-1.example.com', '[fd00::1]:50000'], where, io());
      const config = read();
      expect(config.contexts.prod.endpoints).to.deep.equal(['10.5.0.2', '10.5.0.3:50001', 'cp-1.example.com', '[fd00::1]:50000']);
      expect(config.contexts.prod.nodes).to.deep.equal(['10.5.0.2']);
      expect(config.contexts.lab.endpoints).to.deep.equal([]);
      expect(box.mode('talosconfig')).to.equal(0o600);
    });

    it('edits the context named by --context', async () => {
      await configEndpoints(['10.9.0.1'], { ...where, context: 'lab' }, io());
      expect(read().contexts.lab.endpoints).to.deep.equal(['10.9.0.1']);
      expect(read().contexts.prod.endpoints).to.deep.equal(['controlplane']);
    });

    for (const [bad, message] of [
      ['https://10.5.0.2:50000', 'config endpoint: "https://10.5.0.2:50000": expected host[:port] with an IP address or DNS name, e.g. 10.5.0.2 or cp-1.example.com:50000, without a scheme'],
      ['not an address', 'config endpoint: "not an address": expected host[:port] with an IP address or DNS name, e.g. 10.5.0.2 or cp-1.example.com:50000'],
      ['10.5.0.2:70000', 'config endpoint: node address "10.5.0.2:70000": port must be 1-65535, got "70000"'],
    ]) {
      it(`refuses ${JSON.stringify(bad)} and writes nothing`, async () => {
        const before = readFileSync(where.talosconfig, 'utf8');
        const err = await rejection(configEndpoints(['10.5.0.9', bad], where, io()));
        expect(err.message).to.equal(message);
        expect(readFileSync(where.talosconfig, 'utf8')).to.equal(before);
      });
    }

    it('refuses an unknown context, naming the defined ones, and writes nothing', async () => {
      const before = readFileSync(where.talosconfig, 'utf8');
      const err = await rejection(configEndpoints(['10.5.0.9'], { ...where, context: 'staging' }, io()));
      expect(err.message).to.equal('context "staging" is not defined (defined: lab, prod)');
      expect(readFileSync(where.talosconfig, 'utf8')).to.equal(before);
    });

    it('refuses an empty list (talosctl needs at least one endpoint)', async () => {
      const err = await rejection(configEndpoints([], where, io()));
      expect(err.message).to.equal('config endpoint: give at least one endpoint (host[:port], e.g. 10.5.0.2)');
    });

    it('refuses a talosconfig with no contexts and creates no file', async () => {
      const missing = { talosconfig: box.path('none', 'config') };
      const err = await rejection(configEndpoints(['10.5.0.9'], missing, io()));
      expect(err.message).to.equal(`talosconfig "${missing.talosconfig}" has no contexts: create one with \`trustctl gen config\` or \`trustctl config add\``);
      expect(existsSync(missing.talosconfig)).to.equal(false);
    });
  });

  describe('node', () => {
    it('replaces the nodes, and clears them when given none', async () => {
      await configNodes(['10.5.0.3', '10.5.0.4'], where, io());
      expect(read().contexts.prod.nodes).to.deep.equal(['10.5.0.3', '10.5.0.4']);
      await configNodes([], where, io());
      expect(read().contexts.prod.nodes).to.deep.equal([]);
      expect(read().contexts.prod.endpoints).to.deep.equal(['controlplane']);
    });

    it('refuses a bad node and writes nothing', async () => {
      const before = readFileSync(where.talosconfig, 'utf8');
      const err = await rejection(configNodes(['10.5.0.3', 'bad_host!'], where, io()));
      expect(err.message).to.equal('config node: "bad_host!": expected host[:port] with an IP address or DNS name, e.g. 10.5.0.2 or cp-1.example.com:50000');
      expect(readFileSync(where.talosconfig, 'utf8')).to.equal(before);
    });
  });

  describe('add', () => {
    let files: { ca: string; crt: string; key: string; otherKey: string };
    beforeEach(async () => {
      const os = fixtureOsCA();
      const client = await issueClientCertificate(os, { roles: ['os:reader'] });
      const other = await issueClientCertificate(os, { roles: ['os:reader'] });
      files = { ca: box.path('ca.crt'), crt: box.path('client.crt'), key: box.path('client.key'), otherKey: box.path('other.key') };
      writeFileSync(files.ca, os.crt);
      writeFileSync(files.crt, client.crt);
      writeFileSync(files.key, client.key);
      writeFileSync(files.otherKey, other.key);
    });

    it('adds a context from CA, certificate and key files without making it current', async () => {
      await configAdd('reader', { ca: files.ca, crt: files.crt, key: files.key }, where, io());
      const config = read();
      expect(config.context).to.equal('prod');
      const creds = contextCredentials('reader', config.contexts.reader);
      expect(creds).to.deep.equal({ caPem: readFileSync(files.ca, 'utf8'), crtPem: readFileSync(files.crt, 'utf8'), keyPem: readFileSync(files.key, 'utf8') });
      expect(config.contexts.reader.endpoints).to.deep.equal([]);
      expect(box.mode('talosconfig')).to.equal(0o600);
    });

    it('replaces a context of the same name, as talosctl does', async () => {
      await configAdd('lab', { ca: files.ca }, where, io());
      expect(read().contexts.lab.ca).to.not.equal('');
      expect(Object.keys(read().contexts).sort()).to.deep.equal(['lab', 'prod']);
    });

    it('refuses bad files and writes nothing', async () => {
      const before = readFileSync(where.talosconfig, 'utf8');
      const cases: [Parameters<typeof configAdd>[1], string][] = [
        [{ crt: files.crt }, 'config add: --crt and --key go together: give both (the client certificate and its key) or neither'],
        [{ ca: box.path('missing.crt') }, `config add: --ca: cannot read "${box.path('missing.crt')}": no such file`],
        [{ ca: files.key }, `config add: --ca "${files.key}": expected a "CERTIFICATE" PEM block, got "ED25519 PRIVATE KEY"`],
        [{ crt: files.crt, key: files.otherKey }, `config add: --key "${files.otherKey}" is not the key of the certificate in --crt "${files.crt}"`],
      ];
      for (const [opts, message] of cases) {
        const err = await rejection(configAdd('new', opts, where, io()));
        expect(err.message).to.equal(message);
        expect(readFileSync(where.talosconfig, 'utf8')).to.equal(before);
      }
    });
  });

  describe('remove', () => {
    beforeEach(() => writeFileSync(where.talosconfig, formatTalosconfig({ context: 'prod', contexts: { prod: empty, 'lab-1': empty, 'lab-2': empty, staging: empty } })));

    it('removes the contexts a * pattern matches, but never the current one', async () => {
      await configRemove('lab-*', { noconfirm: true }, where, io());
      expect(Object.keys(read().contexts).sort()).to.deep.equal(['prod', 'staging']);
      await configRemove('*', { noconfirm: true }, where, io());
      expect(Object.keys(read().contexts)).to.deep.equal(['prod']);
    });

    it('--dry-run changes nothing; no match is an error naming the contexts', async () => {
      const before = readFileSync(where.talosconfig, 'utf8');
      await configRemove('lab-*', { noconfirm: true, dryRun: true }, where, io());
      expect(readFileSync(where.talosconfig, 'utf8')).to.equal(before);
      const err = await rejection(configRemove('dev*', { noconfirm: true }, where, io()));
      expect(err.message).to.equal('config remove: no contexts matched "dev*" (defined: lab-1, lab-2, prod, staging)');
      expect(readFileSync(where.talosconfig, 'utf8')).to.equal(before);
    });

    it('asks for each context unless -y: only a "y" answer removes (the prompt reads stdin)', () => {
      const run = (answers: string) =>
        spawnSync(process.execPath, [CLI, '--talosconfig', where.talosconfig, 'config', 'remove', 'lab-*'], { input: answers, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: box.home } });
      const r = run('n\ny\n');
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stderr).to.contain('remove context "lab-1"? [y/N]');
      expect(Object.keys(read().contexts).sort()).to.deep.equal(['lab-1', 'prod', 'staging']);
      const before = readFileSync(where.talosconfig, 'utf8');
      expect(run('').status).to.equal(0);
      expect(readFileSync(where.talosconfig, 'utf8')).to.equal(before);
    });
  });
});
