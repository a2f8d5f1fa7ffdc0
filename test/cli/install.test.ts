import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parse } from 'yaml';

describe('trustctl installed with npm install -g of the checkout', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'trustctl-install-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is on PATH and works from any directory (a work directory outside the checkout)', () => {
    const prefix = join(dir, 'prefix');
    // --prefix keeps the test away from the machine's global packages; --offline: a folder install needs no registry
    const install = spawnSync('npm', ['install', '-g', '--offline', '--no-audit', '--no-fund', '--prefix', prefix, process.cwd()], { encoding: 'utf8' });
    expect(install.status, install.stderr).to.equal(0);
    const work = join(dir, 'work');
    const env = { PATH: `${join(prefix, 'bin')}${delimiter}${process.env.PATH}`, HOME: dir };
    const r = spawnSync('sh', ['-c', 'mkdir -p work && cd work && trustctl gen secrets -o secrets.yaml && trustctl --version'], { cwd: dir, env, encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.equal('0.1.0\n');
    expect(statSync(join(work, 'secrets.yaml')).mode & 0o777).to.equal(0o600);
    expect((parse(readFileSync(join(work, 'secrets.yaml'), 'utf8')) as { certs: { os: { crt: string } } }).certs.os.crt).to.be.a('string');
  });

  it(".gitignore covers what the README's quick start writes, in its work directory or in the checkout's root", () => {
    const paths = ['work/secrets.yaml', 'work/node/state.db', 'secrets.yaml', 'controlplane.yaml', 'worker.yaml', 'talosconfig', 'node/state.db'];
    const r = spawnSync('git', ['check-ignore', '--no-index', ...paths], { encoding: 'utf8' });
    expect(r.stdout.trim().split('\n')).to.deep.equal(paths);
    expect(spawnSync('git', ['check-ignore', '--no-index', 'examples/cluster.sh', 'src/cli/main.ts']).status, 'sources stay tracked').to.equal(1);
  });
});
