// Runs every ```sh block of the README's "Inspect and troubleshoot" section with bash against a real `trustctl serve`
// child, in a work directory holding secrets.yaml, controlplane.yaml and the talosconfig, so the README cannot rot:
// each block must exit 0 and print what the README says it prints.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { FIXTURE_SECRETS } from '../controllers/node-harness.js';
import { freePort } from '../support/free-port.js';
import { CLI } from '../config/support/run-trustctl.js';
import { NodeSandbox } from './node-sandbox.js';
import type { Running } from './node-sandbox.js';

const SECTION = '### Inspect and troubleshoot';
/** The line a block that talks to a node starts with; the test points it at the node it started. */
const NODE_LINE = /^NODE=10\.5\.0\.2:50000 .*$/m;

function sectionBlocks(readme: string): string[] {
  const start = readme.indexOf(`\n${SECTION}\n`);
  if (start < 0) throw new Error(`README.md has no "${SECTION}" section`);
  const rest = readme.slice(start + SECTION.length + 2);
  const end = rest.search(/^#{1,3} /m);
  const section = end < 0 ? rest : rest.slice(0, end);
  return [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

/** What each block, in README order, must print (stdout), as the README's prose promises. */
const EXPECTED: { shows: string; patterns: RegExp[] }[] = [
  {
    shows: 'the client certificate: O=os:admin, CN=talosctl-client, its dates, client auth; the docs pipeline gives the same',
    patterns: [
      /^subject=O = os:admin, CN = talosctl-client$/m,
      /^notBefore=\w{3} +\d+ [\d:]+ \d{4} GMT$/m,
      /^notAfter=\w{3} +\d+ [\d:]+ \d{4} GMT$/m,
      /X509v3 Extended Key Usage: *\n *TLS Web Client Authentication\n/,
      /Subject: O ?= ?os:admin, CN ?= ?talosctl-client/,
    ],
  },
  {
    shows: "the node's server certificate over apid with the talosconfig's certificate and key, its chain verified",
    patterns: [
      /^subject=CN = talos-node$/m,
      /IP Address:10\.5\.0\.2, IP Address:127\.0\.0\.1/,
      /TLS Web Server Authentication/,
      /^notAfter=/m,
      /Verify return code: 0 \(ok\)/,
    ],
  },
  {
    shows: 'the client certificate chains to the bundle OS CA; the CA end date, more than 30 days left',
    patterns: [/^client\.crt: OK$/m, /^subject=O = talos$/m, /^notAfter=\w{3} +\d+ [\d:]+ \d{4} GMT$/m, /^Certificate will not expire$/m],
  },
  {
    shows: 'the client certificate is still valid; a new talosconfig is written; the node certificates with their state',
    patterns: [/^Certificate will not expire$/m, /^\S+ +runtime +CertificateStatuses +api-server .* Valid *$/m],
  },
  {
    shows: "trustd's log lines over apid, and the certificate's state and failure count",
    patterns: [/msg="trustd listening"/, /^ *state: Valid$/m, /^ *failures: 0$/m],
  },
  { shows: "the machine config's CA is the talosconfig's", patterns: [/^same CA$/m] },
  {
    shows: 'the client certificate has the client auth extended key usage, which openssl -purpose sslclient accepts',
    patterns: [/X509v3 Extended Key Usage: *\n *TLS Web Client Authentication\n/, /^client\.crt: OK$/m],
  },
];

describe('README "Inspect and troubleshoot": every sh block against a served node', function () {
  let box: NodeSandbox;
  let node: Running;
  let apid: string;
  const blocks = sectionBlocks(readFileSync('README.md', 'utf8'));

  before(async () => {
    // a missing yq would fail every pipeline block with "command not found"; say what to install instead
    if (spawnSync('sh', ['-c', 'command -v yq']).status !== 0) throw new Error('these README blocks need yq (Debian: apt-get install yq)');
    box = await NodeSandbox.create();
    copyFileSync(FIXTURE_SECRETS, box.path('secrets.yaml'));
    const gen = await box.run(['gen', 'config', 'demo', 'https://10.5.0.2:6443', '--with-secrets', FIXTURE_SECRETS, '--output-types', 'talosconfig', '-o', dirname(box.talosconfig)]);
    expect(gen.code, gen.stderr).to.equal(0);
    writeFileSync(box.talosconfig, readFileSync(`${dirname(box.talosconfig)}/talosconfig`), { mode: 0o600 });
    apid = `127.0.0.1:${await freePort()}`;
    const endpoint = await box.run(['config', 'endpoint', apid]);
    expect(endpoint.code, endpoint.stderr).to.equal(0);
    node = box.start([
      'serve', '--config', box.config, '--state', box.state, '--node-ip', '10.5.0.2', '--hostname', 'cp-1',
      '--listen-address', '127.0.0.1', '--apid-port', apid.split(':')[1], '--trustd-port', String(await freePort()),
    ]);
    await node.until('the node settles', () => node.stderr.includes('msg="node settled"'));
  });
  after(async () => {
    node?.signal('SIGTERM');
    await node?.exited;
    box?.remove();
  });

  /** One block in the work directory, with `trustctl` the built CLI and $NODE this test's node. */
  function runBlock(block: string) {
    const script = block.replace(NODE_LINE, `NODE=${apid}`);
    const trustctl = `trustctl() { "${process.execPath}" "${CLI}" "$@"; }`;
    return spawnSync('bash', ['-c', `set -euo pipefail\n${trustctl}\n${script}`], {
      cwd: box.dir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: box.home, TALOSCONFIG: box.talosconfig },
    });
  }

  it('has one expectation per block, and every block that uses $NODE sets it on its first line', () => {
    expect(blocks.length).to.equal(EXPECTED.length);
    for (const block of blocks) if (block.includes('$NODE')) expect(block).to.match(/^NODE=10\.5\.0\.2:50000 /);
  });

  EXPECTED.forEach(({ shows, patterns }, i) => {
    it(`block ${i + 1} exits 0 and shows ${shows}`, () => {
      const r = runBlock(blocks[i]);
      const output = `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
      expect(r.status, output).to.equal(0);
      for (const pattern of patterns) expect(r.stdout, output).to.match(pattern);
    });
  });

  it("the docs' bare s_client (no client certificate) shows the node's certificate too, as the README says", () => {
    const r = runBlock(`echo | openssl s_client -connect ${apid} 2>/dev/null | openssl x509 -noout -subject`);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.equal('subject=CN = talos-node\n');
  });

  it("writes the client key and the new talosconfig readable by the owner only", () => {
    expect(box.mode('client.key')).to.equal(0o600);
    expect(box.mode('new-talosconfig')).to.equal(0o600);
    expect(statSync(box.path('new-talosconfig')).size).to.be.greaterThan(0);
  });

  it(".gitignore keeps what the blocks write out of git, in work/ or in the checkout's root (client.key is a private key)", () => {
    const paths = ['client.key', 'client.crt', 'ca.crt', 'os-ca.crt', 'new-talosconfig'].flatMap((f) => [f, `work/${f}`]);
    const r = spawnSync('git', ['check-ignore', '--no-index', ...paths], { encoding: 'utf8' });
    expect(r.stdout.trim().split('\n')).to.deep.equal(paths);
  });
});
