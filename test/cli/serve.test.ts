import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { APPLIED_FROM_FILE, MACHINE_CONFIG_POINTER, configDigest } from '../../src/cli/machine-config-file.js';
import { parseMachineConfig } from '../../src/config/index.js';
import { createCA, encodePrivateKeyPem } from '../../src/pki/index.js';
import type { MachineConfigSpec } from '../../src/resources/machine-config.js';
import { openNodeState } from '../../src/server/node.js';
import { NodeSandbox } from './node-sandbox.js';

const HOUR = 3_600_000;
/** A long-running serve listens: on loopback and on free ports, so tests never collide with another node. */
const LOCAL_PORTS = ['--listen-address', '127.0.0.1', '--apid-port', '0', '--trustd-port', '0'];

/** Key material as it can appear in a log: a PEM armour line, or the base64 of one (as machine configs hold them). */
function expectNoKeyMaterial(text: string, box: NodeSandbox): void {
  expect(text).not.to.match(/-----BEGIN/);
  expect(text).not.to.contain('LS0tLS1CRUdJTi'); // base64 of "-----BEGIN"
  const config = box.machineConfig();
  for (const secret of [config.token, config.bootstrapToken, config.clusterSecret, config.secretboxEncryptionSecret]) {
    expect(secret).not.to.equal('');
    expect(text).not.to.contain(secret);
  }
}

describe('trustctl serve', function () {
  this.timeout(60_000);
  let box: NodeSandbox;
  beforeEach(async () => (box = await NodeSandbox.create()));
  afterEach(() => box.remove());

  it('--once on a fresh state directory issues every certificate, reports them Valid and logs no key material', async () => {
    // As a process: everything that reaches the real stderr is read, whichever part of the code wrote it.
    const r = await box.serveOnceProcess('--config', box.config);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^node settled: 13\/13 controllers idle; 19 certificates \(19 Valid\); security: healthy\n$/);
    expect(box.mode('state', 'state.db.key')).to.equal(0o600);

    const statuses = await box.certificateStatuses();
    expect(statuses.size).to.equal(19);
    for (const [id, s] of statuses) expect(s.spec.state, id).to.equal('Valid');
    expect(statuses.get('api-server')?.spec.ipAddresses).to.include('10.5.0.2');
    expect(statuses.get('api-server')?.spec.dnsNames).to.include('cp-1');

    const lines = r.stderr.trimEnd().split('\n');
    for (const line of lines) expect(line, line).to.match(/^time=\S+ level=(info|warn|error) msg=/);
    expect(r.stderr).to.match(/msg="machine config applied" file=\S+controlplane.yaml version=1/);
    expect(r.stderr).to.contain('msg="issued ApiCertificates/api server"');
    expectNoKeyMaterial(r.stderr, box);
  });

  it('writes JSON log lines with --log-format json', async () => {
    const r = await box.serveOnce('--config', box.config, '--log-format', 'json');
    expect(r.code, r.stderr).to.equal(0);
    // serve ran in this process and returned: it let go of the state directory, not only at the process's exit.
    expect(existsSync(box.path('state', 'serve.pid'))).to.equal(false);
    expect((await box.serveOnce()).code).to.equal(0);
    const entries = r.stderr
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { time: string; level: string; msg: string; controller?: string });
    expect(entries[0]).to.include({ level: 'info', msg: 'node opening' });
    expect(entries.some((e) => e.msg === 'issued EtcdSecrets/etcd peer' && e.controller === 'EtcdCertificateController')).to.equal(true);
    expectNoKeyMaterial(r.stderr, box);
  });

  it('refuses a bad config naming the field, and creates no state directory', async () => {
    const bad = box.writeConfig('bad.yaml', (c) => (c.certSANs = ['10.0.0.300']));
    const r = await box.serveOnce('--config', bad);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('machine.certSANs[0]: expected an IP address or DNS name, got "10.0.0.300"');
    expect(r.stderr).to.contain('nothing was applied');
    expect(existsSync(box.state)).to.equal(false);
  });

  it('refuses to start on an empty store without --config, saying how to make one', async () => {
    const r = await box.serveOnce();
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('the store holds no machine config yet: pass --config FILE');
  });

  it('stops cleanly on SIGTERM (exit 0) and a restart on the same directory keeps every certificate', async () => {
    const node = box.start(['serve', '--config', box.config, '--state', box.state, '--node-ip', '10.5.0.2', '--hostname', 'cp-1', ...LOCAL_PORTS]);
    await node.until('the node settles', () => node.stderr.includes('msg="node settled"'));
    const before = await box.certificateStatuses();
    expect([...before.values()].every((s) => s.spec.state === 'Valid')).to.equal(true);

    node.signal('SIGTERM');
    const exit = await node.exited;
    expect(exit.code, node.stderr).to.equal(0);
    expect(node.stderr).to.match(/msg="node stopping" signal=SIGTERM\n.*msg="node stopped"\n$/);

    const again = await box.serveOnce('--config', box.config);
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stderr).to.contain('msg="machine config unchanged"');
    expect(again.stderr).not.to.contain('msg="issued');
    const after = await box.certificateStatuses();
    expect(after.size).to.equal(before.size);
    for (const [id, s] of before) expect(after.get(id)?.spec.serial, id).to.equal(s.spec.serial);
  });

  it('refuses a second serve on the same state directory while one runs, and takes over after a SIGKILL', async () => {
    const node = box.start(['serve', '--config', box.config, '--state', box.state, '--node-ip', '10.5.0.2', '--hostname', 'cp-1', ...LOCAL_PORTS]);
    await node.until('the node settles', () => node.stderr.includes('msg="node settled"'));
    const second = await box.serveOnce('--config', box.config);
    expect(second.code).to.equal(1);
    expect(second.stderr).to.match(/another trustctl serve \(pid \d+\) is running on .*; stop it first/);
    node.signal('SIGKILL');
    await node.exited;
    const after = await box.serveOnce('--config', box.config);
    expect(after.code, after.stderr).to.equal(0);
  });

  it('a running serve picks up apply-config and re-issues the certificates that carry SANs', async () => {
    const node = box.start(['serve', '--config', box.config, '--state', box.state, '--node-ip', '10.5.0.2', '--hostname', 'cp-1', ...LOCAL_PORTS]);
    await node.until('the node settles', () => node.stderr.includes('msg="node settled"'));
    const changed = box.writeConfig('sans.yaml', (c) => (c.certSANs = ['api.example.com']));
    const applied = await box.run(['apply-config', '-f', changed, '--state', box.state]);
    expect(applied.code, applied.stderr).to.equal(0);
    await node.until('the re-issue', () => /msg="issued ApiCertificates\/api server" .*reason=RequestChanged/.test(node.stderr));
    node.signal('SIGINT');
    expect((await node.exited).code).to.equal(0);
    expect((await box.certificateStatuses()).get('api-server')?.spec.dnsNames).to.include('api.example.com');
  });

  it('refuses --config with an OS CA that has expired, before it creates the store', async () => {
    const expired = await createCA('os', { now: new Date(Date.now() - 25 * HOUR), validityHours: 24 });
    const path = box.writeConfig('expired.yaml', (c) => (c.osCA = { crt: expired.certPem, key: encodePrivateKeyPem(expired.key) }));
    const r = await box.serveOnce('--config', path);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/machine config ".*expired\.yaml" has a problem; fix it and try again \(nothing was applied\):\n\t\* machine\.ca\.crt: expired at /);
    expect(existsSync(box.state)).to.equal(false);
  });

  it('--once exits 1 naming each controller that keeps failing and its last error', async () => {
    // An OS CA that expired while stored (the store does not re-judge time: rotation must still be able to write), so
    // nothing can be issued from it.
    expect((await box.serveOnce('--config', box.config)).code).to.equal(0);
    const expired = await createCA('os', { now: new Date(Date.now() - 25 * HOUR), validityHours: 24 });
    const path = box.writeConfig('expired.yaml', (c) => (c.osCA = { crt: expired.certPem, key: encodePrivateKeyPem(expired.key) }));
    const { state } = await openNodeState(box.state);
    try {
      await state.modify<MachineConfigSpec>(MACHINE_CONFIG_POINTER, () => ({ spec: { yaml: readFileSync(path, 'utf8') } }));
    } finally {
      await state.close();
    }
    const r = await box.serveOnce();
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/2 controller\(s\) keep failing:\n/);
    expect(r.stderr).to.match(/ {2}ApiCertificateController: [3-9] failure\(s\), last error: api\/server: the os CA expired at /);
    expect(r.stderr).to.match(/ {2}TrustdCertificateController: [3-9] failure\(s\), last error: trustd\/server: the os CA expired at /);
    expect(r.stderr).to.contain('level=warn msg="reconcile failed; retrying with backoff" controller=ApiCertificateController');
    expectNoKeyMaterial(r.stderr, box);
  });

  it('issues the apid certificates for --api-lifetime, and refuses a duration that is not Go syntax', async () => {
    const r = await box.serveOnce('--config', box.config, '--api-lifetime', '2h');
    expect(r.code, r.stderr).to.equal(0);
    const statuses = await box.run(['get', 'cs', 'api-server', '--state', box.state, '-o', 'json']);
    const spec = (JSON.parse(statuses.stdout) as { spec: { notAfter: string } }).spec;
    const hoursLeft = (Date.parse(spec.notAfter) - Date.now()) / HOUR;
    expect(hoursLeft).to.be.within(1.5, 2);

    const bad = await box.serveOnce('--config', box.config, '--api-lifetime', '2 hours');
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.contain('--api-lifetime: invalid duration "2 hours" (use Go syntax such as 24h');
  });

  it('rejects a --hostname that is not a host name, before it creates the store', async () => {
    const r = await box.serveOnce('--config', box.config, '--hostname', '../../etc/passwd');
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('--hostname: expected a host name such as worker-1 or node1.example.com (letters, digits, hyphens and dots), got "../../etc/passwd"');
    expect(existsSync(box.state)).to.equal(false);
  });

  it('rejects an --node-ip that is not an IP address', async () => {
    const r = await box.serveOnce('--config', box.config, '--node-ip', 'not-an-ip');
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('--node-ip: expected an IP address, got "not-an-ip"');
    expect(existsSync(box.state)).to.equal(false);
  });

  it('rejects a watch limit that is not a whole number >= 1, a --member that is no address and bad audit retention flags, and creates no state directory', async () => {
    const r = await box.serveOnce('--config', box.config, '--max-watches-per-client', '0');
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('--max-watches-per-client: expected a whole number >= 1, got "0"');
    const m = await box.serveOnce('--config', box.config, '--member', '10.5.0.3:99999');
    expect(m.code).to.equal(1);
    expect(m.stderr).to.contain('--member: node address "10.5.0.3:99999": port must be 1-65535, got "99999"');
    for (const [flag, value, says] of [
      ['--audit-retention', '0s', '--audit-retention: expected a duration above zero such as 720h, got "0s"'],
      ['--audit-retention', 'forever', '--audit-retention'],
      ['--audit-max-records', '1', '--audit-max-records: expected a whole number >= 2'],
      ['--audit-max-records', '2.5', '--audit-max-records: expected a whole number >= 2'],
      ['--audit-max-records', 'lots', '--audit-max-records: expected a whole number >= 2'],
    ]) {
      const a = await box.serveOnce('--config', box.config, flag, value);
      expect(a.code, `${flag} ${value}`).to.equal(1);
      expect(a.stderr, `${flag} ${value}`).to.contain(says);
    }
    expect(existsSync(box.state)).to.equal(false);
  });

  it('exits 1 naming the port and the fix when a listener cannot bind, instead of running half started', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = String((taken.address() as AddressInfo).port);
    try {
      // apid starts first and binds; trustd's port is taken: the process must not stay up holding apid's.
      const r = await box.runProcess(['serve', '--config', box.config, '--state', box.state, '--node-ip', '127.0.0.1', '--listen-address', '127.0.0.1', '--apid-port', '0', '--trustd-port', port]);
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stderr).to.contain(`error: trustd cannot listen on 127.0.0.1:${port}: listen EADDRINUSE`);
      expect(r.stderr).to.contain('free it, or pick another with --apid-port, --trustd-port or --metrics-addr');
    } finally {
      taken.close();
    }
  });

  describe('--config at start, when the stored config has changed since', () => {
    const mcVersion = async () => (await box.getJson('mc'))[0].metadata.version;
    const sansOf = async () => (await box.getJson<{ yaml: string }>('mc'))[0].spec.yaml;

    it('keeps a config changed over the API when the file is as serve last applied it (a restart after patch or rotate-ca)', async () => {
      expect((await box.serveOnce('--config', box.config)).code).to.equal(0);
      const patched = await box.run(['patch', 'mc', '--patch', 'machine:\n  certSANs: [10.0.0.5]\n', '--state', box.state]);
      expect(patched.code, patched.stderr).to.equal(0);
      const version = await mcVersion();

      const again = await box.serveOnce('--config', box.config);
      expect(again.code, again.stderr).to.equal(0);
      expect(again.stderr).to.contain('msg="machine config file unchanged since it was applied: keeping the stored config, changed since over the API"');
      expect(await mcVersion()).to.equal(version);
      expect(await sansOf()).to.contain('10.0.0.5');
    });

    it('starts with a unit file whose OS CA expired after a rotation replaced it in the store (the file is not applied)', async () => {
      expect((await box.serveOnce('--config', box.config)).code).to.equal(0);
      // as if serve had applied `old` back when its CA was valid, and rotate-ca had since stored the current config
      const expired = await createCA('os', { now: new Date(Date.now() - 25 * HOUR), validityHours: 24 });
      const old = box.writeConfig('old.yaml', (c) => (c.osCA = { crt: expired.certPem, key: encodePrivateKeyPem(expired.key) }));
      const { state } = await openNodeState(box.state);
      try {
        await state.modify<MachineConfigSpec>(MACHINE_CONFIG_POINTER, (current) => ({
          spec: current!.spec,
          annotations: { ...current!.metadata.annotations, [APPLIED_FROM_FILE]: configDigest(parseMachineConfig(readFileSync(old, 'utf8'))) },
        }));
      } finally {
        await state.close();
      }
      const version = await mcVersion();
      const again = await box.serveOnce('--config', old);
      expect(again.code, again.stderr).to.equal(0);
      expect(again.stderr).to.contain('keeping the stored config');
      expect(await mcVersion()).to.equal(version);
    });

    it('applies a file edited since serve applied it, when the stored config has not changed since', async () => {
      expect((await box.serveOnce('--config', box.config)).code).to.equal(0);
      const edited = box.writeConfig('edited.yaml', (c) => (c.certSANs = [...c.certSANs, '10.0.0.6']));
      const again = await box.serveOnce('--config', edited);
      expect(again.code, again.stderr).to.equal(0);
      expect(again.stderr).to.match(/msg="machine config applied" file=\S+edited\.yaml version=2/);
      expect(await sansOf()).to.contain('10.0.0.6');
    });

    it('refuses, writing nothing, when both the file and the stored config changed since, naming both ways out', async () => {
      expect((await box.serveOnce('--config', box.config)).code).to.equal(0);
      expect((await box.run(['patch', 'mc', '--patch', 'machine:\n  certSANs: [10.0.0.5]\n', '--state', box.state])).code).to.equal(0);
      const version = await mcVersion();
      const edited = box.writeConfig('edited.yaml', (c) => (c.certSANs = [...c.certSANs, '10.0.0.6']));
      const r = await box.serveOnce('--config', edited);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.contain(`error: machine config "${edited}" differs from the node's stored config (version ${version}), and the stored config is not the one serve last applied from a file`);
      expect(r.stderr).to.contain(`Start without --config to keep the stored config (compare with: trustctl apply-config -f ${edited} --state ${box.state} --dry-run), or replace it with the file first: trustctl apply-config -f ${edited} --state ${box.state}`);
      expect(await mcVersion()).to.equal(version);
      expect(await sansOf()).to.contain('10.0.0.5');
      expect(await sansOf()).not.to.contain('10.0.0.6');
      // The way out it names works: apply-config takes the file, and serve then starts with it.
      expect((await box.run(['apply-config', '-f', edited, '--state', box.state])).code).to.equal(0);
      const after = await box.serveOnce('--config', edited);
      expect(after.code, after.stderr).to.equal(0);
      expect(after.stderr).to.contain('msg="machine config unchanged"');
    });
  });
});
