// A node SIGKILLed at 100 random points while it issues, applies configs, rotates its OS CA and restores a snapshot of
// its store (see crash-node.ts). After every kill the store must be sound and sealed, hold every config the node
// acknowledged, and hold every CA with its own key; at the end a restarted node converges to a valid, chaining PKI.
// The kill points come from a seeded generator: a failure names the seed, and CRASH_SEED=<seed> replays it.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { generateMachineConfig, parseMachineConfig } from '../../src/config/index.js';
import type { PemCertAndKey } from '../../src/config/index.js';
import { parsePrivateKeyPem } from '../../src/pki/index.js';
import { ISSUED_CERTIFICATE_TYPES } from '../../src/resources/index.js';
import type { CertificateStatusSpec, IssuedCertificatesSpec, MachineConfigSpec, OSRootSecretsSpec } from '../../src/resources/index.js';
import { openSqliteState } from '../../src/runtime/sqlite/index.js';
import { STATE_FILE, nodeResourceRegistry } from '../../src/server/node.js';
import { fixtureBundle } from '../controllers/node-harness.js';
import { prng } from '../support/prng.js';

// crash-node.ts, bundled by `npm run build` (scripts/bundle.mjs): a hundred workers start, and each loads like trustctl.
const WORKER = resolve(process.cwd(), 'dist/test-bundle/crash-node.js');
// A worker lives a fraction of a second: V8's optimizing compiler would spend more than it saves (~40 ms of CPU a
// worker, measured). The same flags as scripts/bundle.mjs's CRASH_WORKER_NODE_FLAGS, or V8 refuses the code cache.
const WORKER_NODE_FLAGS = ['--no-opt'];
const KILLS = 100;
const sha = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);


/** A worker started ahead of its turn (module loading overlaps the previous one's run); `run` ends it with SIGKILL. */
class Worker {
  readonly lines: string[] = [];
  private stderr = '';
  private readonly ready: Promise<void>;
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private onLine: () => void = () => undefined;
  private readonly child;

  constructor(stateDir: string) {
    this.child = spawn(process.execPath, [...WORKER_NODE_FLAGS, WORKER, stateDir], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    let readied: () => void = () => undefined;
    this.ready = new Promise((resolve) => (readied = resolve));
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      if (line === 'ready') return readied();
      this.lines.push(line);
      this.onLine();
    });
    this.exited = new Promise((resolve) => this.child.on('close', (code, signal) => resolve({ code, signal })));
  }

  /** Sends `command`; SIGKILLs `delayMs` after the `killAfter`-th acknowledgement. */
  async run(command: string, killAfter: number, delayMs: number): Promise<string[]> {
    await this.ready;
    let armed = false;
    this.onLine = () => {
      if (armed || this.lines.filter((l) => l.startsWith('ack ')).length < killAfter) return;
      armed = true;
      setTimeout(() => this.child.kill('SIGKILL'), delayMs);
    };
    this.child.stdin.write(`${command}\n`);
    const { code, signal } = await this.exited;
    if (signal !== 'SIGKILL' && !(killAfter === Infinity && code === 0)) throw new Error(`worker exited by itself (code ${code}): ${this.stderr}`);
    return this.lines;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

function keyMatches(pair: PemCertAndKey): boolean {
  const fromKey = parsePrivateKeyPem(pair.key).publicKey.export({ type: 'spki', format: 'der' });
  return fromKey.equals(new X509Certificate(pair.crt).publicKey.export({ type: 'spki', format: 'der' }));
}

describe('a node SIGKILLed at random points of issuance, apply-config, CA rotation and snapshot restore', function () {
  // A bound on a hang, not on speed: with the suite in two workers on a loaded machine a hundred kills took over 120 s.
  this.timeout(300_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'tp-node-crash-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it(`loses no acknowledged config and no CA key across ${KILLS} kills, and converges`, async () => {
    const seed = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);
    const random = prng(seed);
    const stateDir = join(dir, 'state');
    const path = join(stateDir, STATE_FILE);
    const registry = nodeResourceRegistry();
    const bundle = fixtureBundle();
    writeFileSync(join(dir, 'initial.yaml'), generateMachineConfig(bundle, { type: 'controlplane', clusterName: 'demo', endpoint: 'https://10.5.0.2:6443' }).toYaml());
    const knownCAs = new Set([sha(bundle.certs.os.crt)]);
    let acked = { version: 0, sha: '' };
    const seen = new Map<string, number>();

    // Two started ahead: their module loading keeps both cores busy while the current one runs.
    const queue = [new Worker(stateDir), new Worker(stateDir)];
    try {
      for (let kill = 0; kill < KILLS; kill++) {
        const worker = queue.shift()!;
        queue.push(new Worker(stateDir));
        const lines = await worker.run(`go ${seed * 1000 + kill}`, 1 + Math.floor(random() * 4), Math.floor(random() * 30));
        const context = `seed ${seed}, kill ${kill}`;
        for (const line of lines) {
          const [tag, what, a, b] = line.split(' ');
          if (tag === 'made') knownCAs.add(a);
          if (tag === 'ack') seen.set(what, (seen.get(what) ?? 0) + 1);
          if (tag === 'ack' && what === 'config') acked = { version: Number(a), sha: b };
        }

        const state = await openSqliteState({ path, registry, readOnly: true });
        try {
          expect(state.integrityCheck(), context).to.equal('ok');
          await state.verifySealing();
          const mc = await state.get<MachineConfigSpec>({ namespace: 'config', type: 'MachineConfigs', id: 'v1alpha1' });
          expect(mc.metadata.version, `${context}: acknowledged config lost`).to.be.at.least(acked.version);
          if (mc.metadata.version === acked.version) expect(sha(mc.spec.yaml), context).to.equal(acked.sha);
          const osCA = parseMachineConfig(mc.spec.yaml).osCA;
          expect(knownCAs.has(sha(osCA.crt)), `${context}: the config's OS CA is not one we made`).to.equal(true);
          expect(keyMatches(osCA), `${context}: the config's OS CA key does not match its certificate`).to.equal(true);
          const root = await state.find<OSRootSecretsSpec>({ namespace: 'secrets', type: 'OSRootSecrets', id: 'os' });
          if (root) expect(keyMatches(root.spec.issuingCA), `${context}: OSRootSecrets' CA key does not match`).to.equal(true);
        } finally {
          await state.close();
        }
      }
      const converged = await queue.shift()!.run('converge', Infinity, 0);
      expect(converged).to.include('ack converged');
    } finally {
      for (const w of queue) w.kill();
    }

    // Every kind of step was reached, and killed in, at least once.
    for (const what of ['started', 'config', 'settled', 'restore']) expect(seen.get(what) ?? 0, what).to.be.greaterThan(0);
    expect(knownCAs.size, 'rotations begun').to.be.greaterThan(1);

    const state = await openSqliteState({ path, registry, readOnly: true });
    try {
      const root = (await state.get<OSRootSecretsSpec>({ namespace: 'secrets', type: 'OSRootSecrets', id: 'os' })).spec;
      const issuer = new X509Certificate(root.issuingCA.crt);
      for (const def of ISSUED_CERTIFICATE_TYPES.filter((d) => d.type === 'ApiCertificates' || d.type === 'TrustdCertificates')) {
        for (const r of await state.list<IssuedCertificatesSpec>({ namespace: 'secrets', type: def.type })) {
          for (const [name, cert] of Object.entries(r.spec.certificates)) {
            expect(new X509Certificate(cert.crt).verify(issuer.publicKey), `${def.type}/${name} chains to the OS CA (seed ${seed})`).to.equal(true);
            expect(keyMatches(cert), `${def.type}/${name} key`).to.equal(true);
          }
        }
      }
      const statuses = await state.list<CertificateStatusSpec>({ namespace: 'runtime', type: 'CertificateStatuses' });
      expect(statuses.length).to.be.greaterThan(10);
      const broken = statuses.filter((s) => s.spec.state !== 'Valid' || (s.spec.kind === 'leaf' && !s.spec.chainsToAcceptedCA));
      expect(broken.map((s) => `${s.metadata.id}: ${s.spec.state}`), `seed ${seed}`).to.deep.equal([]);
    } finally {
      await state.close();
    }
  });
});
