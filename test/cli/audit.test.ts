// `trustctl audit` on a local store (--state): the local commands that change a node (apply-config, patch, config new
// --with-secrets --state) leave records as actor `local`; `-o json` prints one JSON object per line; `audit verify`
// judges the chain. In process, except one run of the real CLI for the exit code of a tampered trail.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateMachineConfig, parseTalosconfig } from '../../src/config/index.js';
import { applyConfig } from '../../src/cli/apply-config.js';
import { printAudit, storeTrail, verifyAudit } from '../../src/cli/audit.js';
import { configNew } from '../../src/cli/config-new.js';
import { patchMachineConfigCommand } from '../../src/cli/patch.js';
import { buildProgram } from '../../src/cli/program.js';
import { tokenFingerprint } from '../../src/controllers/audit/index.js';
import { FIXTURE_SECRETS, fixtureBundle } from '../controllers/node-harness.js';
import { Sandbox } from '../config/support/run-trustctl.js';
import { captured } from '../support/captured-output.js';

interface JsonLine {
  seq: number;
  actor: string;
  action: string;
  details: Record<string, unknown>;
  prev: string;
}

describe('trustctl audit with --state (local commands recorded as actor local)', function () {
  this.timeout(30_000);
  let dir: string;
  let state: string;
  const lines = async () => (await captured((io) => printAudit({ state, output: 'json' }, storeTrail(state, io), io))).stdout.trim().split('\n').map((l) => JSON.parse(l) as JsonLine);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trustplane-audit-cli-'));
    state = join(dir, 'state');
    const config = generateMachineConfig(fixtureBundle(), { type: 'controlplane', clusterName: 'demo', endpoint: 'https://10.5.0.2:6443' });
    writeFileSync(join(dir, 'controlplane.yaml'), config.toYaml());
    await captured((io) => applyConfig({ file: join(dir, 'controlplane.yaml'), state }, io));
    await captured((io) => patchMachineConfigCommand({ patch: ['machine:\n  certSANs: [local.example]\n'], state }, io));
    await captured((io) => configNew(join(dir, 'talosconfig'), { output: 'talosconfig', withSecrets: FIXTURE_SECRETS, roles: 'os:reader', state }, { talosconfig: join(dir, 'none') }, io));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('records apply-config, patch and config new as JSON lines a SIEM can read, each head signed before the command exits', async () => {
    const records = await lines();
    expect(records.map((r) => `${r.seq} ${r.actor} ${r.action}`)).to.deep.equal([
      '1 local machine-config-changed',
      '2 AuditTrail chain-signed',
      '3 local machine-config-changed',
      '4 AuditTrail chain-signed',
      '5 local certificate-issued',
      '6 AuditTrail chain-signed',
    ]);
    expect(records[0].details).to.deep.equal({ via: 'apply-config', created: true, fields: [], version: 1 });
    expect(records[2].details).to.deep.equal({ via: 'patch', fields: ['machine.certSANs'], version: 2 });
    const talosconfig = parseTalosconfig(readFileSync(join(dir, 'talosconfig'), 'utf8'));
    const crt = new X509Certificate(Buffer.from(Object.values(talosconfig.contexts)[0].crt, 'base64'));
    expect(records[4].details).to.deep.include({ issuedBy: 'config new', roles: ['os:reader'], ca: 'os', serial: crt.serialNumber.toUpperCase() });
  });

  it('verifies the trail, and the real CLI exits 1 naming the record after one byte of it is changed with sqlite3', async () => {
    const ok = await captured((io) => verifyAudit(storeTrail(state, io), io));
    expect(ok.exitCode).to.equal(0);
    expect(ok.stdout).to.equal(`--state ${state}: audit trail intact: records 1..6 (6), head signed through record 5\n`);
    execFileSync('sqlite3', [join(state, 'state.db'), `UPDATE resources SET spec = replace(spec, 'machine.certSANs', 'machine.certSANz') WHERE type = 'AuditRecords' AND id = '000000000003'`]);
    const box = new Sandbox();
    try {
      const r = await box.runProcess(['audit', 'verify', '--state', state]);
      expect(r.code).to.equal(1);
      expect(r.stdout).to.equal('');
      expect(r.stderr).to.equal(`--state ${state}: audit trail broken at record 3 (edited): record 3 was edited: its hash no longer matches the one record 4 carries\n`);
    } finally {
      box.remove();
    }
  });
});

describe('trustctl token with --state (join tokens made, revoked and the static token switched, recorded as actor local)', function () {
  this.timeout(30_000);
  let dir: string;
  const lines = async () => (await captured((io) => printAudit({ state: join(dir, 'state'), output: 'json' }, storeTrail(join(dir, 'state'), io), io))).stdout.trim().split('\n').map((l) => JSON.parse(l) as JsonLine);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trustplane-audit-token-'));
    const config = generateMachineConfig(fixtureBundle(), { type: 'controlplane', clusterName: 'demo', endpoint: 'https://10.5.0.2:6443' });
    writeFileSync(join(dir, 'controlplane.yaml'), config.toYaml());
    await captured((io) => applyConfig({ file: join(dir, 'controlplane.yaml'), state: join(dir, 'state') }, io));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('records token create (id and fingerprint, never the token), token revoke and token static', async () => {
    const state = join(dir, 'state');
    const trustctl = (...args: string[]) => captured((io) => buildProgram(io).parseAsync(['token', ...args, '--state', state], { from: 'user' }));
    const token = (await trustctl('create', '--uses', '3', '--hostname', 'worker-3')).stdout.trim();
    const id = token.split('.')[0];
    await trustctl('revoke', id);
    await trustctl('static', 'refuse');
    const records = (await lines()).filter((r) => r.action !== 'chain-signed' && r.action !== 'machine-config-changed');
    expect(records.map((r) => `${r.actor} ${r.action}`)).to.deep.equal(['local token-created', 'local token-revoked', 'local static-token-mode']);
    expect(records[0].details).to.deep.include({ joinToken: id, token: tokenFingerprint(token), uses: 3, hostname: 'worker-3' });
    expect(records[1].details).to.deep.equal({ joinToken: id });
    expect(records[2].details).to.deep.equal({ staticToken: 'refused' });
    expect(JSON.stringify(records)).not.to.include(token.split('.')[1]);
  });
});
