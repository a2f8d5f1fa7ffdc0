// A node process for the crash test: on `go SEED` it starts the node on the state directory as `serve --once` would
// (startNode: refusing a store its key did not seal, the controllers alone) and then, for ever, does what a seeded
// generator picks: apply a config (new certSANs), take one step of an OS CA rotation, wait for issuance to settle, or
// stop, snapshot and restore the store. Each finished step is acknowledged on stdout (`ack ...`); the test SIGKILLs it
// at a random point. With `converge` instead of `go`, it settles once and exits.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { applyMachineConfig, storedMachineConfig } from '../../src/cli/machine-config-file.js';
import { parseMachineConfig } from '../../src/config/index.js';
import type { MachineConfig, PemCertAndKey } from '../../src/config/index.js';
import { startNode } from '../../src/server/node-assembly/index.js';
import { STATE_FILE } from '../../src/server/node.js';
import type { Node } from '../../src/server/node.js';
import { prng } from '../support/prng.js';

const stateDir = process.argv[2];
// Beside the state directory: the config the node starts from, and the CA a rotation has begun with (an admin's files).
const initialConfig = join(stateDir, '..', 'initial.yaml');
const pendingFile = join(stateDir, '..', 'pending-ca.json');
const say = (line: string) => process.stdout.write(`${line}\n`);
const sha = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);


async function start(): Promise<Node> {
  const running = await startNode({
    node: { stateDir, addresses: { addresses: ['10.5.0.2'], hostname: 'cp-1' } },
    services: false,
    prepare: async (node) => {
      if (!(await storedMachineConfig(node.state))) await apply(node, parseMachineConfig(readFileSync(initialConfig, 'utf8')));
    },
  });
  return running.node;
}

async function current(node: Node): Promise<MachineConfig> {
  return parseMachineConfig((await storedMachineConfig(node.state))!.spec.yaml);
}

async function apply(node: Node, config: MachineConfig): Promise<void> {
  const yaml = config.toYaml();
  const { resource } = await applyMachineConfig(node.state, { path: 'crash-test', yaml, config });
  say(`ack config ${resource.metadata.version} ${sha(resource.spec.yaml)}`);
}

/** One step of a one-node OS CA rotation, read off the stored config; the new CA waits in a file like an admin's. */
async function rotationStep(node: Node): Promise<void> {
  const config = await current(node);
  const pending = existsSync(pendingFile) ? (JSON.parse(readFileSync(pendingFile, 'utf8')) as PemCertAndKey) : undefined;
  const accepted = config.acceptedCAs;
  if (accepted.length === 0) {
    const { createCA, encodePrivateKeyPem } = await import('../../src/pki/index.js');
    const made = await createCA('os', { algorithm: 'ed25519', now: new Date(Date.now() - 300_000) });
    const next = { crt: made.certPem, key: encodePrivateKeyPem(made.key) };
    say(`made ca ${sha(next.crt)}`);
    writeFileSync(`${pendingFile}.tmp`, JSON.stringify(next));
    renameSync(`${pendingFile}.tmp`, pendingFile);
    config.acceptedCAs = [next.crt];
  } else if (pending && accepted[0] === pending.crt && config.osCA.crt !== pending.crt) {
    const old = config.osCA.crt;
    config.osCA = pending;
    config.acceptedCAs = [old];
  } else {
    config.acceptedCAs = [];
  }
  await apply(node, config);
}

/** Stop, snapshot (as GET /v1/etcd/snapshot does) and put the snapshot in place, then start again. */
async function snapshotRestore(node: Node): Promise<Node> {
  await node.stop();
  const store = join(stateDir, STATE_FILE);
  const snapshot = `${store}.snapshot`;
  rmSync(snapshot, { force: true });
  const db = new Database(store, { fileMustExist: true });
  db.prepare('VACUUM INTO ?').run(snapshot);
  db.close();
  // The last connection closed has checkpointed its WAL into the file; a WAL left beside the restored file would be
  // replayed into it, so it goes before the swap.
  for (const side of ['-wal', '-shm']) rmSync(`${store}${side}`, { force: true });
  renameSync(snapshot, store);
  say('ack restore');
  return start();
}

async function run(seed: number): Promise<void> {
  const random = prng(seed);
  let node = await start();
  say('ack started');
  for (;;) {
    const pick = random();
    if (pick < 0.3) {
      const config = await current(node);
      config.certSANs = [`san-${randomBytes(3).toString('hex')}.example.com`];
      await apply(node, config);
    } else if (pick < 0.6) {
      await rotationStep(node);
    } else if (pick < 0.9) {
      await node.runtime.settled();
      say('ack settled');
    } else {
      node = await snapshotRestore(node);
    }
  }
}

async function converge(): Promise<void> {
  const node = await start();
  await node.runtime.settled();
  await node.stop();
  say('ack converged');
  process.exit(0);
}

say('ready');
createInterface({ input: process.stdin }).once('line', (line) => {
  const [verb, seed] = line.split(' ');
  const work = verb === 'converge' ? converge() : run(Number(seed));
  work.catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(3);
  });
});
