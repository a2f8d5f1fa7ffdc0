// Kills a writing process with SIGKILL at random moments and checks, after each reopen, that every write it
// acknowledged is there, no batch is half-applied and SQLite finds the file sound.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSqliteState } from '../../src/runtime/sqlite/index.js';
import type { WidgetSpec } from '../fixtures-runtime/definitions.js';
import { testRegistry } from '../fixtures-runtime/definitions.js';
import { prng } from '../support/prng.js';

const writerScript = fileURLToPath(new URL('../fixtures-runtime/state-writer.js', import.meta.url));
const ROUNDS = 20;


interface Acks {
  created: string[];
  batches: string[];
  counter: number;
}

interface Writer {
  run(killAfter: number, extraMs: number): Promise<Acks>;
}

/**
 * Starts a writer that loads its modules and waits; `run` lets it write until it has acknowledged `killAfter`
 * writes, waits `extraMs` more, then SIGKILLs it.
 */
function startWriter(path: string, round: number): Writer {
  const child = spawn(process.execPath, [writerScript, 'loop', path], {
    env: { ...process.env, CRASH_ROUND: String(round) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const acks: Acks = { created: [], batches: [], counter: 0 };
  let count = 0;
  let buffered = '';
  let stderr = '';
  let killAfter = Infinity;
  let extraMs = 0;
  let killing = false;
  let ready: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  const exited = new Promise<Acks>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer exited by itself (code ${code}): ${stderr}`));
      else resolve(acks);
    });
  });
  const maybeKill = () => {
    if (killing || count < killAfter) return;
    killing = true;
    setTimeout(() => child.kill('SIGKILL'), extraMs);
  };
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      const [tag, what, arg] = line.split(' ');
      if (tag === 'ready') ready();
      if (tag !== 'ack') continue;
      if (what === 'create') acks.created.push(arg);
      else if (what === 'batch') acks.batches.push(arg);
      else if (what === 'counter') acks.counter = Number(arg);
      count++;
    }
    maybeKill();
  });
  return {
    async run(after, extra) {
      killAfter = after;
      extraMs = extra;
      await isReady;
      child.stdin.write('go\n');
      return exited;
    },
  };
}

describe('SQLite store under SIGKILL', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tp-crash-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it(`keeps every acknowledged write and no half batch across ${ROUNDS} kills at random moments`, async () => {
    const seed = Date.now() % 1_000_000;
    const random = prng(seed);
    const path = join(dir, 'state.db');
    const acknowledged = new Set<string>();
    let counterAcked = 0;
    let next = startWriter(path, 0);
    for (let round = 0; round < ROUNDS; round++) {
      const writer = next;
      if (round + 1 < ROUNDS) next = startWriter(path, round + 1);
      const acks = await writer.run(1 + Math.floor(random() * 60), Math.floor(random() * 4));
      const context = `seed ${seed}, round ${round}`;
      for (const id of acks.created) acknowledged.add(id);
      for (const b of acks.batches) for (const j of [0, 1, 2]) acknowledged.add(`${b}-${j}`);
      counterAcked = Math.max(counterAcked, acks.counter);

      const state = await openSqliteState({ path, registry: testRegistry() });
      try {
        expect(state.integrityCheck(), context).to.equal('ok');
        const ids = new Set((await state.list({ namespace: 'default', type: 'Widgets' })).map((r) => r.metadata.id));
        const missing = [...acknowledged].filter((id) => !ids.has(id));
        expect(missing, `${context}: acknowledged but missing`).to.deep.equal([]);
        const batchPrefixes = new Set([...ids].filter((id) => id.startsWith('b-')).map((id) => id.replace(/-\d$/, '')));
        for (const prefix of batchPrefixes) {
          const present = [0, 1, 2].filter((j) => ids.has(`${prefix}-${j}`));
          expect(present, `${context}: batch ${prefix} half-applied`).to.deep.equal([0, 1, 2]);
        }
        const counter = await state.find<WidgetSpec>({ namespace: 'default', type: 'Widgets', id: 'counter' });
        expect(counter?.metadata.version ?? 0, context).to.be.at.least(counterAcked);
        if (counter) expect(counter.spec.size, `${context}: counter spec and version disagree`).to.equal(counter.metadata.version);
        expect(await state.revision(), `${context}: event log behind the data`).to.be.at.least(ids.size);
      } finally {
        await state.close();
      }
    }
    expect(acknowledged.size).to.be.greaterThan(ROUNDS);
  });
});
