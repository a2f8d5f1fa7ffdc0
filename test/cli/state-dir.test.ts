import { expect } from 'chai';
import Database from 'better-sqlite3';
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { NodeSandbox } from './node-sandbox.js';

interface Finding {
  severity: string;
  code: string;
  subject: string;
  message: string;
}

describe('the state directory and its store', function () {
  this.timeout(60_000);
  let box: NodeSandbox;
  beforeEach(async () => (box = await NodeSandbox.create()));
  afterEach(() => box.remove());

  const storeFile = () => box.path('state', 'state.db');
  /** The store's last revision and its rows, read behind trustplane's back to check that nothing was written. */
  const snapshotOf = () => {
    const db = new Database(storeFile(), { readonly: true });
    try {
      return {
        revision: db.prepare('SELECT max(revision) FROM events').pluck().get(),
        rows: db.prepare('SELECT namespace, type, id, version, spec FROM resources ORDER BY namespace, type, id').all(),
      };
    } finally {
      db.close();
    }
  };

  it('refuses to serve a store whose machine config was replaced by plain JSON without the key, and writes nothing', async () => {
    expect((await box.serveOnce('--config', box.config)).code).to.equal(0);
    // What an os:etcd:backup holder can do to a snapshot: swap the sealed config for one of their own, in the clear.
    const theirs = box.writeConfig('theirs.yaml', (c) => (c.certSANs = ['attacker.example.com']));
    const db = new Database(storeFile());
    db.prepare(`UPDATE resources SET spec = ? WHERE type = 'MachineConfigs'`).run(JSON.stringify({ yaml: theirs }));
    db.close();
    const before = snapshotOf();

    const r = await box.serveOnce('--config', box.config);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain(`${storeFile()}: config/MachineConfigs/v1alpha1 is not sealed: the store was edited without its key; restore from a snapshot you trust`);
    expect(r.stderr).not.to.contain('msg="node running"');
    expect(snapshotOf()).to.deep.equal(before);

    const get = await box.run(['get', 'mc', '--state', box.state, '-o', 'json']);
    expect(get.code).to.equal(1);
    expect(get.stderr).to.contain('config/MachineConfigs/v1alpha1 is not sealed');
    expect(get.stdout).not.to.contain('attacker.example.com');
  });

  it('refuses a zero-byte state.db beside its key, even for get, and leaves it as it is', async () => {
    expect((await box.serveOnce('--config', box.config)).code).to.equal(0);
    writeFileSync(storeFile(), '');
    const listing = readdirSync(box.state).sort();
    for (const args of [['get', 'cs', '--state', box.state], ['serve', '--state', box.state, '--once', '--config', box.config]]) {
      const r = args[0] === 'serve' ? await box.runProcess(args) : await box.run(args);
      expect(r.code, args[0]).to.equal(1);
      expect(r.stderr).to.contain(`"${storeFile()}" is empty but "${storeFile()}.key" exists: restore the store or remove both`);
      expect(statSync(storeFile()).size).to.equal(0);
    }
    expect(readdirSync(box.state).sort()).to.deep.equal(listing);
  });

  it('names a corrupt store file and says to restore a snapshot', async () => {
    mkdirSync(box.state, { mode: 0o700 });
    writeFileSync(storeFile(), 'not a database at all; '.repeat(200), { mode: 0o600 });
    const r = await box.run(['get', 'cs', '--state', box.state]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain(`"${storeFile()}" is corrupt (file is not a database): restore it from a snapshot you trust`);
  });

  it('tightens a state directory others can write to 0700 and reports it in SecurityStatus until then', async () => {
    mkdirSync(box.state);
    chmodSync(box.state, 0o777);
    const r = await box.serveOnce('--config', box.config);
    expect(r.code, r.stderr).to.equal(0);
    expect(box.mode('state')).to.equal(0o700);
    expect(r.stderr).to.contain('msg="state directory tightened"');
    expect(r.stdout).to.contain('security: not healthy');
    const get = await box.run(['get', 'securitystatus', '--state', box.state, '-o', 'json']);
    expect(get.code).to.equal(2);
    const [status] = JSON.parse(get.stdout) as { spec: { findings: Finding[] } }[];
    const finding = status.spec.findings.find((f) => f.code === 'StateDirWritableByOthers');
    expect(finding).to.include({ severity: 'warning', subject: box.state });
    expect(finding?.message).to.contain('was writable by others (mode 0777); serve tightened it to 0700');

    // Once tight, the next start has nothing to report.
    const again = await box.serveOnce('--config', box.config);
    expect(again.stdout).to.contain('security: healthy');
  });

  it('refuses a shared (sticky) state directory and opens nothing in it', async () => {
    mkdirSync(box.state);
    chmodSync(box.state, 0o1777);
    const r = await box.serveOnce('--config', box.config);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain(`state directory "${box.state}" is a shared directory (mode 1777): give serve a directory of its own with --state`);
    expect(readdirSync(box.state)).to.deep.equal([]);
    expect(existsSync(storeFile())).to.equal(false);
  });
});
