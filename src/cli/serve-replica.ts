// `trustctl serve --store etcd://...`: one replica of a node whose store is shared. Every replica serves apid (and
// trustd on control planes) from the shared store; the controllers and the CA rotation driver run only in the elected
// leader, on a fenced view of the store, so a deposed leader cannot write what its successor writes. SIGTERM resigns
// at once.
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import type { CertificateLifetimes } from '../controllers/lifetimes.js';
import { machineConfigOf } from '../resources/machine-config.js';
import { leaderElectorFor } from '../runtime/store-url.js';
import { runWhileLeader } from '../runtime/leader-election.js';
import { nodeAuditRecorder, nodeRuntime, openSharedNodeState } from '../server/node.js';
import { storedMachineConfig } from './machine-config-file.js';
import type { MachineConfigFile } from './machine-config-file.js';
import { applyConfigOnStart, auditRetention, onStopSignal, rotationDriverService, startServices } from './serve-action.js';
import { openCaKeys } from './serve-ca-keys.js';
import type { ServeLoggers } from './serve-logs.js';
import type { ServeOptions } from './serve.js';
import { tightenStateDir } from './state-dir-mode.js';

export interface ReplicaContext {
  file: MachineConfigFile | undefined;
  lifetimes: Partial<CertificateLifetimes>;
  stateDir: string;
  loggers: ServeLoggers;
}

export async function serveReplica(opts: ServeOptions, ctx: ReplicaContext): Promise<void> {
  const { log } = ctx.loggers;
  if (opts.once) throw new Error('--once runs a node to completion on its own store; it cannot be combined with --store (replicas run until stopped)');
  const logger = ctx.loggers.service('controller-runtime');
  mkdirSync(ctx.stateDir, { recursive: true, mode: 0o700 });
  const loose = tightenStateDir(ctx.stateDir);
  if (loose) log('warn', 'state directory tightened', { state: ctx.stateDir, finding: loose.message });
  const { state, registry } = await openSharedNodeState(opts.store!, ctx.stateDir);
  const caKeys = await openCaKeys(opts, log);
  // One trail for the shared store: every replica appends to it (the head's compare-and-swap orders them).
  const audit = nodeAuditRecorder(state, { logger, audit: { retention: auditRetention(opts) } }).start();
  const name = `${opts.hostname ?? hostname()}/${process.pid}`;
  const elector = leaderElectorFor(state, { name })!;
  let loop: ReturnType<typeof runWhileLeader> | undefined;
  const stopping = onStopSignal(log, async () => {
    await loop?.stop();
    await audit.close();
    await state.close();
    caKeys?.close();
  });
  try {
    log('info', 'replica opening', { store: opts.store!.replace(/\/\/[^@/]*@/, '//'), keys: state.encryptedAtRest ? 'encrypted at rest' : 'NOT encrypted' });
    await state.verifySealing();
    await applyConfigOnStart({ state }, ctx.file, log, '-e <a running replica>');
    const services = await startServices({ state, registry, audit }, opts, ctx.loggers, caKeys);
    stopping.before(async () => Promise.all(services.map((s) => s.stop())).then(() => undefined));
    const addresses = { ...(opts.nodeIp.length > 0 ? { addresses: opts.nodeIp } : {}), ...(opts.hostname ? { hostname: opts.hostname } : {}) };
    const config = await storedMachineConfig(state);
    const controlPlane = config !== undefined && machineConfigOf(config).type !== 'worker';
    loop = runWhileLeader({
      elector,
      async lead(term) {
        const runtime = nodeRuntime(term.state, registry, { addresses, lifetimes: ctx.lifetimes, logger, storeFindings: loose ? [loose] : [], audit, ...(caKeys ? { caKeys } : {}) });
        await runtime.start();
        void runtime.settled().then(() => {
          if (!runtime.stopped) log('info', 'leader settled', {});
        });
        // One driver per rotation, like the controllers: two replicas moving the same CARotation would race.
        const driver = controlPlane ? await rotationDriverService(term.state, logger, audit, caKeys) : undefined;
        return async () => {
          await driver?.stop();
          await runtime.stop();
        };
      },
      onChange: (event, holder, reason) => log('info', event === 'elected' ? 'leading: controllers running here' : 'no longer leading', { holder, ...(reason ? { reason } : {}) }),
    });
    loop.done.catch((err: unknown) => {
      log('error', 'leader election failed', { error: err instanceof Error ? err.message : String(err) });
      void stopping.stop('election failure');
      process.exitCode = 1;
    });
    await stopping.done;
  } finally {
    await stopping.stop('exit');
  }
}
