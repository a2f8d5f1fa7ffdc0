// `trustctl serve --store etcd://...`: one replica of a node whose store is shared (src/server/node-assembly
// start-replica.ts says what runs where). Here: the flags as options, SIGTERM to stop() (which resigns at once), and
// what the replica says on stderr.
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import type { CertificateLifetimes } from '../controllers/lifetimes.js';
import type { RunningReplica } from '../server/node-assembly/index.js';
import type { CliIo } from './cli-io.js';
import type { MachineConfigFile } from './machine-config-file.js';
import { applyConfigOnStart } from './serve-apply-config.js';
import { openCaKeys } from './serve-ca-keys.js';
import type { ServeLoggers } from './serve-logs.js';
import { auditRetention, nodeAddresses, serviceOptions } from './serve-node-options.js';
import { onStopSignal } from './serve-stop-signal.js';
import type { ServeOptions } from './serve-options.js';
import { tightenStateDir } from './state-dir-mode.js';

export interface ReplicaContext {
  file: MachineConfigFile | undefined;
  lifetimes: Partial<CertificateLifetimes>;
  stateDir: string;
  loggers: ServeLoggers;
  io: CliIo;
}

export async function serveReplica(opts: ServeOptions, ctx: ReplicaContext): Promise<void> {
  const { log } = ctx.loggers;
  if (opts.once) throw new Error('--once runs a node to completion on its own store; it cannot be combined with --store (replicas run until stopped)');
  const store = opts.store!;
  const services = serviceOptions(opts, ctx.loggers);
  mkdirSync(ctx.stateDir, { recursive: true, mode: 0o700 });
  const loose = tightenStateDir(ctx.stateDir);
  if (loose) log('warn', 'state directory tightened', { state: ctx.stateDir, finding: loose.message });
  const caKeys = await openCaKeys(opts, log, ctx.io.env);
  const { startReplica } = await import('../server/node-assembly/index.js');
  let starting: Promise<RunningReplica> | undefined;
  const stopping = onStopSignal(log, async () => {
    await (await starting?.catch(() => undefined))?.stop();
    caKeys?.close();
  });
  try {
    starting = startReplica({
      store,
      name: `${opts.hostname ?? hostname()}/${process.pid}`,
      node: {
        ...(caKeys ? { caKeys } : {}),
        stateDir: ctx.stateDir,
        keyEnv: ctx.io.env,
        storeFindings: loose ? [loose] : [],
        addresses: nodeAddresses(opts),
        lifetimes: ctx.lifetimes,
        logger: ctx.loggers.service('controller-runtime'),
        audit: { retention: auditRetention(opts) },
      },
      services,
      opened: ({ state }) => log('info', 'replica opening', { store: store.replace(/\/\/[^@/]*@/, '//'), keys: state.encryptedAtRest ? 'encrypted at rest' : 'NOT encrypted' }),
      prepare: (replica) => applyConfigOnStart(replica, ctx.file, { log, stderr: ctx.io.stderr }, '-e <a running replica>'),
    });
    const replica = await starting;
    replica.leadership.catch((err: unknown) => {
      log('error', 'leader election failed', { error: err instanceof Error ? err.message : String(err) });
      void stopping.stop('election failure');
      ctx.io.exitCode = 1;
    });
    await stopping.done;
  } finally {
    await stopping.stop('exit');
  }
}
