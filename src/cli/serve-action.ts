// The action of `trustctl serve` (serve.ts declares the command), loaded only when it runs: flags to the options of a
// node (src/server/node-assembly starts it), signals to its stop(), and what it says on stderr and stdout.
import { mkdirSync } from 'node:fs';
import type { Node } from '../server/node.js';
import type { CliIo } from './cli-io.js';
import type { RunningNode } from '../server/node-assembly/index.js';
import { openCaKeys } from './serve-ca-keys.js';
import type { LineLogger } from './log-line.js';
import { readMachineConfigFile } from './machine-config-file.js';
import { applyConfigOnStart } from './serve-apply-config.js';
import { serveLoggers } from './serve-logs.js';
import { auditRetention, lifetimesFrom, nodeAddresses, serviceOptions } from './serve-node-options.js';
import { runUntilSettled, summarize } from './serve-once.js';
import { onStopSignal } from './serve-stop-signal.js';
import { tightenStateDir } from './state-dir-mode.js';
import { lockStateDir } from './state-lock.js';
import type { ServeOptions } from './serve-options.js';
import { resolveStateDir, storeExists } from './state-path.js';

export async function serve(opts: ServeOptions, io: CliIo): Promise<void> {
  const loggers = serveLoggers(opts.logFormat, (line) => io.stderr.write(line));
  const { log } = loggers;
  const lifetimes = lifetimesFrom(opts);
  const stateDir = resolveStateDir(opts.state, io);
  // Validated before the store is opened: a bad file leaves no state directory, store or key behind. Into a fresh
  // store the file will be applied, so its CAs must be valid now; otherwise applyConfigOnStart judges that if it applies.
  const fresh = !opts.store && !storeExists(stateDir);
  const file = opts.config ? await readMachineConfigFile(opts.config, opts, fresh ? new Date() : undefined, io) : undefined;
  // --once is for scripts that want the certificates issued and the summary: no listeners, no ports taken.
  const services = opts.once ? false : serviceOptions(opts, loggers);
  if (opts.store?.startsWith('etcd://')) {
    const { serveReplica } = await import('./serve-replica.js');
    return serveReplica(opts, { file, lifetimes, stateDir, loggers, io });
  }
  if (opts.store) throw new Error(`--store: "${opts.store}" is not an etcd URL; give etcd://HOST:PORT[,HOST:PORT]/PREFIX, or leave it out for the SQLite store in --state`);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const loose = tightenStateDir(stateDir);
  if (loose) log('warn', 'state directory tightened', { state: stateDir, finding: loose.message });
  const lock = lockStateDir(stateDir);
  // Released when serve returns; on an exit that skips the finally (process.exit on a second signal) as the process ends.
  const releaseOnExit = () => lock.release();
  process.once('exit', releaseOnExit);
  const caKeys = await openCaKeys(opts, log, io.env);
  const { startNode } = await import('../server/node-assembly/index.js');
  let starting: Promise<RunningNode> | undefined;
  // A signal while the node starts stops it once it has started (half-started services would outlive a closed store).
  const stopping = onStopSignal(log, async () => {
    await (await starting?.catch(() => undefined))?.stop();
    caKeys?.close();
  });
  try {
    starting = startNode({
      node: {
        ...(caKeys ? { caKeys } : {}),
        stateDir,
        keyEnv: io.env,
        storeFindings: loose ? [loose] : [],
        addresses: nodeAddresses(opts),
        lifetimes,
        logger: loggers.service('controller-runtime'),
        audit: { retention: auditRetention(opts) },
      },
      services,
      opened: (node) => log('info', 'node opening', { state: stateDir, keys: node.state.encryptedAtRest ? 'encrypted at rest' : 'NOT encrypted' }),
      prepare: (node) => applyConfigOnStart(node, file, { log, stderr: io.stderr }, `--state ${stateDir}`),
    });
    const { node } = await starting;
    log('info', 'node running', { controllers: node.runtime.controllers.length });
    if (opts.once) {
      const outcome = once(node, log, io);
      // A signal during --once stops the node under it; what it was doing then no longer matters.
      outcome.catch(() => undefined);
      await Promise.race([outcome, stopping.done]);
    } else {
      // Said once, so a supervisor (or a test) knows when the first round of work is done.
      // The records of the first round are signed now rather than at the first tick of the audit timer.
      void node.runtime
        .settled()
        .then(() => node.audit.tick())
        .then(() => {
          if (!node.runtime.stopped) log('info', 'node settled', {});
        });
      await stopping.done;
    }
  } finally {
    await stopping.stop('exit');
    process.off('exit', releaseOnExit);
    lock.release();
  }
}

async function once(node: Node, log: LineLogger, io: CliIo): Promise<void> {
  const failing = await runUntilSettled(node.runtime);
  const summary = await summarize(node.state, node.runtime);
  if (failing.length === 0) {
    io.stdout.write(`${summary}\n`);
    log('info', 'node settled', {});
    return;
  }
  const lines = failing.map((s) => `  ${s.name}: ${s.failures} failure(s), last error: ${s.lastError ?? 'unknown'}`);
  io.stderr.write(`${failing.length} controller(s) keep failing:\n${lines.join('\n')}\n`);
  io.stdout.write(`${summary}\n`);
  io.exitCode = 1;
}
