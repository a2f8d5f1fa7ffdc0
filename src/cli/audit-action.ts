// The actions of `trustctl audit` (audit.ts declares the command), loaded only when it runs.
import type { Command } from 'commander';
import type { AuditVerdict } from '../controllers/audit/index.js';
import type { AuditRecordSpec } from '../resources/audit-records.js';
import type { Resource } from '../runtime/resource.js';
import type { State } from '../runtime/state.js';
import { formatNodeAddress, paths } from '../server/apid/index.js';
import { connectApi } from './api-client.js';
import type { ApiClient, RemoteTarget } from './api-client.js';
import type { AuditOptions } from './audit.js';
import { formatFollowed, formatRecords, formatVerdict } from './audit-output.js';
import { followWatch } from './remote-watch.js';
import { remoteTargetOf } from './remote-target.js';
import { requireStore, resolveStateDir } from './state-path.js';

const sinceDate = (opts: AuditOptions): Date | undefined => (opts.since === undefined ? undefined : new Date(Date.now() - opts.since));
const isAfter = (since: Date | undefined) => (r: AuditRecordSpec) => !since || Date.parse(r.time) >= since.getTime();

async function withLocalStore<T>(stateFlag: string | undefined, use: (state: State, dir: string) => Promise<T>): Promise<T> {
  const { openNodeState } = await import('../server/node.js');
  const dir = resolveStateDir(stateFlag);
  requireStore(dir);
  const { state } = await openNodeState(dir, undefined, true);
  try {
    return await use(state, dir);
  } finally {
    await state.close();
  }
}

/** `stop` ends a -f run (tests); SIGINT and SIGTERM do too. */
export async function auditLocal(opts: AuditOptions, stopWhen?: AbortSignal): Promise<void> {
  const { AUDIT_KIND, readAuditTrail } = await import('../controllers/audit/index.js');
  const since = sinceDate(opts);
  await withLocalStore(opts.state, async (state) => {
    if (!opts.follow) {
      process.stdout.write(formatRecords((await readAuditTrail(state, since)).map((r) => r.spec), opts.output));
      return;
    }
    const stop = untilSignal(stopWhen);
    await new Promise<void>((resolve, reject) => {
      let header = opts.output === 'table';
      const subscription = state.watchKind<AuditRecordSpec>(AUDIT_KIND, { bootstrap: true }).subscribe({
        next: (e) => {
          if (e.type !== 'created' || !e.resource || !isAfter(since)(e.resource.spec)) return;
          if (header) process.stdout.write(formatRecords([], 'table'));
          header = false;
          process.stdout.write(formatFollowed(e.resource.spec, opts.output));
        },
        error: reject,
      });
      stop.signal.addEventListener('abort', () => {
        subscription.unsubscribe();
        resolve();
      });
    }).finally(() => stop.dispose());
  });
}

export async function verifyLocal(stateFlag: string | undefined): Promise<void> {
  const { verifyStoredTrail } = await import('../controllers/audit/index.js');
  await withLocalStore(stateFlag, async (state, dir) => report(await verifyStoredTrail(state), `--state ${dir}`));
}

/** `stop` ends a -f run (tests); SIGINT and SIGTERM do too. */
export async function auditRemote(opts: AuditOptions, target: RemoteTarget, stopWhen?: AbortSignal): Promise<void> {
  const { client, nodes } = await connectApi(target);
  const asked = nodes.length > 0 ? nodes : [undefined];
  const label = (node: string | undefined) => node ?? formatNodeAddress(client.endpoint).replace(/:\d+$/, '');
  const labels = asked.length > 1 ? label : undefined;
  const since = sinceDate(opts);
  try {
    if (opts.follow) return await followRemote(client, asked, labels, opts, since, stopWhen);
    const rows: { node: string; spec: AuditRecordSpec }[] = [];
    for (const node of asked) {
      const found = await client.call<Resource<AuditRecordSpec>[]>('GET', paths.resources('AuditRecords'), node ? { node } : {});
      rows.push(...found.filter((r) => isAfter(since)(r.spec)).map((r) => ({ node: label(node), spec: r.spec })));
    }
    process.stdout.write(formatRecords(rows.map((r) => r.spec), opts.output, labels ? rows.map((r) => r.node) : undefined));
  } finally {
    client.close();
  }
}

async function followRemote(
  client: ApiClient,
  asked: (string | undefined)[],
  labels: ((n: string | undefined) => string) | undefined,
  opts: AuditOptions,
  since: Date | undefined,
  stopWhen: AbortSignal | undefined,
): Promise<void> {
  const stop = untilSignal(stopWhen);
  if (opts.output === 'table') process.stdout.write(formatRecords([], 'table', labels ? [] : undefined));
  try {
    await Promise.all(
      asked.map((node) =>
        followWatch(
          client,
          paths.watch('AuditRecords'),
          node,
          {
            event: (line) => {
              const spec = line.type === 'created' ? (line.resource?.spec as AuditRecordSpec | undefined) : undefined;
              if (spec && isAfter(since)(spec)) process.stdout.write(formatFollowed(spec, opts.output, labels?.(node)));
            },
            reset: (reason) => process.stderr.write(`${reason}; listing again\n`),
            reconnecting: (reason, delay) => process.stderr.write(`${reason}; reconnecting in ${delay} ms from the last bookmark\n`),
          },
          stop.signal,
        ),
      ),
    );
  } finally {
    stop.dispose();
  }
}

export async function verifyRemote(cmd: Command): Promise<void> {
  const { client, nodes } = await connectApi(remoteTargetOf(cmd));
  try {
    for (const node of nodes.length > 0 ? nodes : [undefined]) {
      const verdict = await client.call<AuditVerdict>('GET', paths.auditVerify, node ? { node } : {});
      report(verdict, node ?? formatNodeAddress(client.endpoint));
    }
  } finally {
    client.close();
  }
}

function report(verdict: AuditVerdict, where: string): void {
  const line = formatVerdict(verdict, where);
  if (verdict.ok) process.stdout.write(line);
  else {
    process.stderr.write(line);
    process.exitCode = 1;
  }
}

/** Aborts on SIGINT/SIGTERM or `also`; keeps the process alive meanwhile (store polling and sockets may not). */
function untilSignal(also?: AbortSignal): { signal: AbortSignal; dispose(): void } {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  if (also?.aborted) stop.abort();
  also?.addEventListener('abort', onSignal, { once: true });
  const keepAlive = setInterval(() => undefined, 1 << 30);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: stop.signal,
    dispose() {
      clearInterval(keepAlive);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      also?.removeEventListener('abort', onSignal);
    },
  };
}
