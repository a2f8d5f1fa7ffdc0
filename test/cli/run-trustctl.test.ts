// runTrustctl runs a command line in process against an injected CliIo: paths resolve against the io's directory,
// defaults come from the io's environment, output and usage errors go to the io, and the exit code is returned
// without touching the process's own (which the test runner owns).
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bufferIo } from '../../src/cli/buffer-io.js';
import { runTrustctl } from '../../src/cli/program.js';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { openSqliteState } from '../../src/runtime/sqlite/index.js';
import { nodeResourceRegistry, openNodeState } from '../../src/server/node.js';
import { FIXTURE_SECRETS } from '../controllers/node-harness.js';

describe('runTrustctl (trustctl in process)', () => {
  let dir: string;
  const place = () => ({ env: { HOME: join(dir, 'home') }, cwd: dir });
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'trustctl-in-process-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("writes a relative -o under the io's directory, not the process's, and names it as given", async () => {
    const io = bufferIo(place());
    const code = await runTrustctl(['gen', 'config', 'demo', 'https://10.5.0.2:6443', '--with-secrets', FIXTURE_SECRETS, '--output-types', 'controlplane', '-o', 'out'], io);
    expect(code, io.written.stderr).to.equal(0);
    expect(readFileSync(join(dir, 'out', 'controlplane.yaml'), 'utf8')).to.match(/^version: v1alpha1/m);
    expect(existsSync(join(process.cwd(), 'out'))).to.equal(false);
    expect(io.written.stderr).to.equal('created out/controlplane.yaml\n');
  });

  it("finds the state directory from --state, the io's $TRUSTPLANE_STATE_DIR or its HOME, against the io's directory", async () => {
    const relative = bufferIo(place());
    expect(await runTrustctl(['get', 'cs', '--state', 'relative-state'], relative)).to.equal(1);
    expect(relative.written.stderr).to.contain(`state directory "${join(dir, 'relative-state')}" does not exist`);

    // check without -e/-n runs on a local store (get would ask the API)
    const home = bufferIo(place());
    expect(await runTrustctl(['check'], home)).to.equal(1);
    expect(home.written.stderr).to.contain(`state directory "${join(dir, 'home', '.trustplane', 'state')}" does not exist`);

    const variable = bufferIo({ env: { TRUSTPLANE_STATE_DIR: 'from-env' }, cwd: dir });
    expect(await runTrustctl(['get', 'cs'], variable)).to.equal(1);
    expect(variable.written.stderr).to.contain(`state directory "${join(dir, 'from-env')}" does not exist`);
  });

  it('sends usage errors and --help to the io and answers their codes; the process keeps its exit code and listeners', async () => {
    const signals = process.listenerCount('SIGINT');
    const unknown = bufferIo(place());
    expect(await runTrustctl(['frobnicate'], unknown)).to.equal(1);
    expect(unknown.written.stderr).to.contain("error: unknown command 'frobnicate'");
    const help = bufferIo(place());
    expect(await runTrustctl(['get', '--help'], help)).to.equal(0);
    expect(help.written.stdout).to.match(/^Usage: trustctl get \[options\] <type> \[id\]/);
    const failed = bufferIo(place());
    expect(await runTrustctl(['config', 'info'], failed)).to.equal(1);
    expect(failed.written.stderr).to.equal(`error: talosconfig "${join(dir, 'home', '.talos', 'config')}" has no contexts: create one with \`trustctl gen config\` and add it with \`trustctl config merge\`\n`);
    expect(process.exitCode ?? 0).to.equal(0);
    expect(process.listenerCount('SIGINT')).to.equal(signals);
  });

  it('follows a store with get -w until the io is asked to stop, then removes its listeners and answers 0', async () => {
    const stateDir = join(dir, 'state');
    const { state } = await openNodeState(stateDir);
    await state.close();
    const io = bufferIo(place());
    const running = runTrustctl(['get', 'cs', '--state', stateDir, '-w'], io);
    // the header comes with the first (empty) listing
    await io.printed('stdout', (text) => text.startsWith('*'));
    expect(io.stopListeners()).to.equal(2);
    io.stop();
    expect(await running).to.equal(0);
    expect(io.stopListeners()).to.equal(0);
    expect(io.written.stdout).to.match(/^\*\s+NAMESPACE\s+TYPE\s+ID\s+VERSION/);
  });

  it("opens a store sealed with TRUSTPLANE_STATE_KEY from the io's environment, not the process's, and writes no key file", async () => {
    expect(process.env.TRUSTPLANE_STATE_KEY, 'the test process must not have a key of its own').to.equal(undefined);
    const stateDir = join(dir, 'state');
    mkdirSync(stateDir, { mode: 0o700 });
    const key = randomBytes(32);
    const sealed = await openSqliteState({ path: join(stateDir, 'state.db'), registry: nodeResourceRegistry(), encryptionKey: key });
    await sealed.close();

    const withKey = bufferIo({ env: { TRUSTPLANE_STATE_KEY: key.toString('base64') }, cwd: dir });
    expect(await runTrustctl(['audit', 'verify', '--state', stateDir], withKey), withKey.written.stderr).to.equal(0);
    expect(withKey.written.stdout).to.equal(`--state ${stateDir}: audit trail empty: nothing recorded yet\n`);

    const without = bufferIo(place());
    expect(await runTrustctl(['audit', 'verify', '--state', stateDir], without)).to.equal(1);
    expect(without.written.stderr).to.contain(`state key file "${join(stateDir, 'state.db.key')}" is missing`);
    expect(existsSync(join(stateDir, 'state.db.key'))).to.equal(false);
  });
});
