import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { bufferIo } from '../../src/cli/buffer-io.js';
import { TEST_PLACE } from '../support/captured-output.js';
import { DateTime } from 'luxon';
import { contextCredentials, issueClientCertificate, parseTalosconfig } from '../../src/config/index.js';
import { addRemoteOptions } from '../../src/cli/remote-target.js';
import { registerRevokeCommands } from '../../src/cli/revoke.js';
import { splitTalosconfigFlags } from '../../src/cli/revoke-args.js';
import { parseCertificatePem } from '../../src/pki/index.js';
import { AuditRecords, normalSerial } from '../../src/resources/index.js';
import type { AuditRecordSpec } from '../../src/resources/index.js';
import { openNodeState } from '../../src/server/node.js';
import { NodeHarness, freshBundle } from '../controllers/node-harness.js';
import { credential } from '../server/apid-harness.js';
import { storedRevocations } from '../server/revocation-support.js';
import { RemoteBox } from './remote-support.js';

describe('trustctl revoke and crl', function () {
  this.timeout(60_000);

  describe('--talosconfig after `revoke` names what to revoke, before it how to connect', () => {
    it('tells the two apart by their place around the command word, values included', () => {
      expect(splitTalosconfigFlags(['--talosconfig', 'admin.yaml', 'revoke', '--talosconfig', 'leaked.yaml', '--context', 'x'], 'revoke')).to.deep.equal({
        connect: { talosconfig: 'admin.yaml' },
        revoke: { talosconfig: 'leaked.yaml', context: 'x' },
      });
      expect(splitTalosconfigFlags(['--context', 'revoke', 'revoke', '--talosconfig=leaked.yaml', '--reason', 'r'], 'revoke')).to.deep.equal({
        connect: { context: 'revoke' },
        revoke: { talosconfig: 'leaked.yaml' },
      });
    });
  });

  describe('locally with --state', () => {
    let node: NodeHarness;
    let out = '';

    before(async () => {
      node = await NodeHarness.start({ bundle: await freshBundle(new Date(Date.now() - 600_000)), start: DateTime.utc().startOf('second') });
      await node.stop();
    });
    after(async () => node.destroy());

    /** Runs trustctl in-process (its output captured) and returns the error it ended with, if any. */
    async function run(args: string[]): Promise<Error | undefined> {
      const io = bufferIo(TEST_PLACE);
      const program = new Command('trustctl').exitOverride().configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: () => undefined });
      addRemoteOptions(program);
      registerRevokeCommands(program, io);
      try {
        await program.parseAsync(args, { from: 'user' });
        return undefined;
      } catch (err) {
        return err as Error;
      } finally {
        out = io.written.stdout;
      }
    }
    const stored = async () => {
      const { state } = await openNodeState(node.dir, undefined, true);
      try {
        return await storedRevocations(state);
      } finally {
        await state.close();
      }
    };

    it('revokes a certificate file, refuses bad files naming them with nothing written, prints the CRL, and lifts it with --undo', async () => {
      const { state } = await openNodeState(node.dir, undefined, true);
      const os = (await state.get<{ issuingCA: { crt: string; key: string } }>({ namespace: 'secrets', type: 'OSRootSecrets', id: 'os' })).spec.issuingCA;
      await state.close();
      const leaked = credential('leaked', await issueClientCertificate(os, { roles: ['os:admin'], now: new Date() }));
      const certFile = join(node.dir, 'leaked.crt');
      writeFileSync(certFile, leaked.crt!);
      const junk = join(node.dir, 'junk.txt');
      writeFileSync(junk, 'not a certificate\n');

      expect((await run(['revoke', '--state', node.dir, '--cert', junk, '--reason', 'x']))?.message).to.match(new RegExp(`^--cert ${junk}: no PEM block found`));
      expect((await run(['revoke', '--state', node.dir, '--cert', join(node.dir, 'missing.crt'), '--reason', 'x']))?.message).to.match(/^--cert: cannot read ".*missing\.crt": no such file/);
      expect((await run(['revoke', '--state', node.dir, '--cert', certFile]))?.message).to.match(/^--reason: say in a few words why/);
      expect((await run(['revoke', '--state', node.dir, '--cert', certFile, '--serial', '4f', '--reason', 'x']))?.message).to.match(/^give exactly one of --cert FILE.*\(got --cert and --serial\)/);
      expect(await stored()).to.deep.equal([]);

      expect(await run(['revoke', '--state', node.dir, '--cert', certFile, '--reason', 'laptop stolen'])).to.equal(undefined);
      const serial = normalSerial(parseCertificatePem(leaked.crt!).serialNumber);
      expect(out).to.match(new RegExp(`^revoked the os certificate serial ${serial} \\(".*os:admin.*"\\) \\(keyCompromise: "laptop stolen"\\)\\n`));
      const [entry] = await stored();
      expect(entry).to.deep.include({ serial, reason: 'laptop stolen', revokedBy: `local (--state ${node.dir})` });

      expect(await run(['crl', 'os', '--state', node.dir])).to.equal(undefined);
      expect(out).to.match(/^-----BEGIN X509 CRL-----\n[\s\S]+-----END X509 CRL-----\n$/);

      expect(await run(['revoke', '--undo', '--state', node.dir, '--serial', serial.toUpperCase(), '--ca', 'os'])).to.equal(undefined);
      expect(out).to.match(new RegExp(`^lifted the revocation of the os certificate serial ${serial}`));
      expect(await stored()).to.deep.equal([]);
    });

    it('records the revocation and its undo in the node\'s audit trail as actor local, with CA, serial and reason', async () => {
      // Odd-length, as stored: the record writes it in whole bytes, as Node and the certificate-issued records do.
      const serial = 'c0ffee1';
      expect(await run(['revoke', '--state', node.dir, '--serial', serial, '--ca', 'os', '--reason', 'lost in transit'])).to.equal(undefined);
      expect(await run(['revoke', '--undo', '--state', node.dir, '--serial', serial, '--ca', 'os'])).to.equal(undefined);
      const { state } = await openNodeState(node.dir, undefined, true);
      const records = (await state.list<AuditRecordSpec>({ namespace: AuditRecords.namespace, type: AuditRecords.type })).map((r) => r.spec);
      await state.close();
      const changes = records.filter((r) => r.action === 'certificate-revoked' || r.action === 'revocation-lifted').slice(-2);
      const certificate = { ca: 'os', serial: '0C0FFEE1', reason: 'lost in transit', reasonCode: 'keyCompromise' };
      expect(changes.map((r) => [r.actor, r.action])).to.deep.equal([
        ['local', 'certificate-revoked'],
        ['local', 'revocation-lifted'],
      ]);
      // Revoked by serial alone: no subject or fingerprint is known, so none is recorded.
      expect(changes[0].details).to.deep.equal(certificate);
      expect(changes[1].details).to.deep.include({ ...certificate, revokedBy: `local (--state ${node.dir})` });
    });
  });

  describe('over the API (one spawned trustctl)', () => {
    let box: RemoteBox;
    before(async () => {
      box = await RemoteBox.open();
    });
    after(async () => box?.close());

    it('revokes the certificate of the talosconfig named after `revoke` while connecting with the default one, then prints the CRL', async () => {
      // A reader's talosconfig: were it used to connect, the call would be refused (revoke needs os:admin).
      const leakedPath = box.path('leaked.yaml');
      await box.writeTalosconfig(leakedPath, ['os:reader']);
      const leaked = parseTalosconfig(readFileSync(leakedPath, 'utf8'));
      const creds = contextCredentials(leaked.context, leaked.contexts[leaked.context]);
      const leakedCred = credential('leaked', { crt: creds.crtPem, key: creds.keyPem });
      expect((await box.a.request(leakedCred, 'GET', '/v1/version')).status).to.equal(200);

      const r = await box.run(['revoke', '--talosconfig', leakedPath, '--reason', 'laptop stolen']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/^revoked the os certificate serial [0-9a-f]+ \(".*os:reader.*"\) \(keyCompromise: "laptop stolen"\)/);
      const refused = await box.a.request(leakedCred, 'GET', '/v1/version');
      expect([refused.status, refused.json.error]).to.satisfy(([s, e]: [number, string]) => s === 401 && /^certificate revoked/.test(e));
      const [entry] = await storedRevocations(box.a.node.node.state);
      expect(entry.revokedBy).to.match(/os:admin/);

      const crl = await box.run(['crl', 'os']);
      expect(crl.code, crl.stderr).to.equal(0);
      expect(crl.stdout).to.match(/^-----BEGIN X509 CRL-----\n/);
    });
  });
});
