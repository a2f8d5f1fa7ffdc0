// `trustctl audit [-f] [--since 1h] [-o table|json]` prints a node's audit trail (over the API for os:admin and
// os:operator, or with --state from a local store); `-o json` is one JSON object per line, for a SIEM.
// `trustctl audit verify` checks the whole hash chain and the head signatures, naming the first record that was edited,
// removed or reordered, and exits 1 when there is one. The store, the API client and the printers load only when the
// command runs.
import { Option } from 'commander';
import type { Command } from 'commander';
import type { AuditVerdict } from '../controllers/audit/index.js';
import type { AuditRecordSpec } from '../resources/audit-records.js';
import type { Resource } from '../runtime/resource.js';
import type { State } from '../runtime/state.js';
import type { ApiClient, RemoteTarget } from './api-client.js';
import type { CliIo } from './cli-io.js';
import { durationOption } from './duration.js';
import { remoteTargetOf, runsRemotely } from './remote-target.js';
import { STATE_OPTION_HELP, requireStore, resolveStateDir } from './state-path.js';

export const AUDIT_FORMATS = ['table', 'json'] as const;
export type AuditFormat = (typeof AUDIT_FORMATS)[number];

export interface AuditOptions {
  state?: string;
  follow?: boolean;
  /** Milliseconds back from now. */
  since?: number;
  output: AuditFormat;
}

export function registerAuditCommand(program: Command, io: CliIo): void {
  const audit = program
    .command('audit')
    .description("Show a node's audit trail: certificates issued, revocations, CA rotation phases, machine config changes, refused calls (os:admin, os:operator)")
    .option('--state <dir>', STATE_OPTION_HELP)
    .option('-f, --follow', 'keep printing records as they are written, until Ctrl-C')
    .option('--since <duration>', 'only records from this long ago on (Go syntax: 30m, 1h, 24h)', durationOption('--since'))
    .addOption(new Option('-o, --output <format>', 'table, or json: one JSON object per line').choices(AUDIT_FORMATS).default('table'))
    .action(async (opts: AuditOptions, cmd: Command) => (runsRemotely(cmd, io.env) ? auditRemote(opts, remoteTargetOf(cmd), io) : auditLocal(opts, io)));
  audit
    .command('verify')
    .description("Check the audit trail's hash chain and head signatures; names the first record edited, removed or reordered (exit 1)")
    .option('--state <dir>', STATE_OPTION_HELP)
    .action(async (_opts: unknown, cmd: Command) => {
      // --state may come before or after `verify`; commander gives it to whichever command it follows.
      const { state } = cmd.optsWithGlobals<{ state?: string }>();
      return runsRemotely(cmd, io.env) ? verifyRemote(cmd, io) : verifyLocal(state, io);
    });
}

const sinceDate = (opts: AuditOptions): Date | undefined => (opts.since === undefined ? undefined : new Date(Date.now() - opts.since));
const isAfter = (since: Date | undefined) => (r: AuditRecordSpec) => !since || Date.parse(r.time) >= since.getTime();

async function withLocalStore<T>(stateFlag: string | undefined, io: CliIo, use: (state: State, dir: string) => Promise<T>): Promise<T> {
  const { openNodeState } = await import('../server/node.js');
  const dir = resolveStateDir(stateFlag, io);
  requireStore(dir);
  const { state } = await openNodeState(dir, undefined, true);
  try {
    return await use(state, dir);
  } finally {
    await state.close();
  }
}

/** A -f run follows until the io is asked to stop (SIGINT, SIGTERM). */
export async function auditLocal(opts: AuditOptions, io: CliIo): Promise<void> {
  const { AUDIT_KIND, readAuditTrail } = await import('../controllers/audit/index.js');
  const { formatFollowed, formatRecords } = await import('./audit-output.js');
  const since = sinceDate(opts);
  await withLocalStore(opts.state, io, async (state) => {
    if (!opts.follow) {
      io.stdout.write(formatRecords((await readAuditTrail(state, since)).map((r) => r.spec), opts.output));
      return;
    }
    const stop = untilStopped(io);
    await new Promise<void>((resolve, reject) => {
      let header = opts.output === 'table';
      const subscription = state.watchKind<AuditRecordSpec>(AUDIT_KIND, { bootstrap: true }).subscribe({
        next: (e) => {
          if (e.type !== 'created' || !e.resource || !isAfter(since)(e.resource.spec)) return;
          if (header) io.stdout.write(formatRecords([], 'table'));
          header = false;
          io.stdout.write(formatFollowed(e.resource.spec, opts.output));
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

export async function verifyLocal(stateFlag: string | undefined, io: CliIo): Promise<void> {
  const { verifyStoredTrail } = await import('../controllers/audit/index.js');
  await withLocalStore(stateFlag, io, async (state, dir) => report(await verifyStoredTrail(state), `--state ${dir}`, io));
}

/** A -f run follows until the io is asked to stop (SIGINT, SIGTERM). */
export async function auditRemote(opts: AuditOptions, target: RemoteTarget, io: CliIo): Promise<void> {
  const { connectApi } = await import('./api-client.js');
  const { formatNodeAddress, paths } = await import('../server/apid/index.js');
  const { formatRecords } = await import('./audit-output.js');
  const { client, nodes } = await connectApi(target, io);
  const asked = nodes.length > 0 ? nodes : [undefined];
  const label = (node: string | undefined) => node ?? formatNodeAddress(client.endpoint).replace(/:\d+$/, '');
  const labels = asked.length > 1 ? label : undefined;
  const since = sinceDate(opts);
  try {
    if (opts.follow) return await followRemote(client, asked, labels, opts, since, io);
    const rows: { node: string; spec: AuditRecordSpec }[] = [];
    for (const node of asked) {
      const found = await client.call<Resource<AuditRecordSpec>[]>('GET', paths.resources('AuditRecords'), node ? { node } : {});
      rows.push(...found.filter((r) => isAfter(since)(r.spec)).map((r) => ({ node: label(node), spec: r.spec })));
    }
    io.stdout.write(formatRecords(rows.map((r) => r.spec), opts.output, labels ? rows.map((r) => r.node) : undefined));
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
  io: CliIo,
): Promise<void> {
  const { paths } = await import('../server/apid/index.js');
  const { formatFollowed, formatRecords } = await import('./audit-output.js');
  const { followWatch } = await import('./remote-watch.js');
  const stop = untilStopped(io);
  if (opts.output === 'table') io.stdout.write(formatRecords([], 'table', labels ? [] : undefined));
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
              if (spec && isAfter(since)(spec)) io.stdout.write(formatFollowed(spec, opts.output, labels?.(node)));
            },
            reset: (reason) => io.stderr.write(`${reason}; listing again\n`),
            reconnecting: (reason, delay) => io.stderr.write(`${reason}; reconnecting in ${delay} ms from the last bookmark\n`),
          },
          stop.signal,
        ),
      ),
    );
  } finally {
    stop.dispose();
  }
}

export async function verifyRemote(cmd: Command, io: CliIo): Promise<void> {
  const { connectApi } = await import('./api-client.js');
  const { formatNodeAddress, paths } = await import('../server/apid/index.js');
  const { client, nodes } = await connectApi(remoteTargetOf(cmd), io);
  try {
    for (const node of nodes.length > 0 ? nodes : [undefined]) {
      const verdict = await client.call<AuditVerdict>('GET', paths.auditVerify, node ? { node } : {});
      await report(verdict, node ?? formatNodeAddress(client.endpoint), io);
    }
  } finally {
    client.close();
  }
}

async function report(verdict: AuditVerdict, where: string, io: CliIo): Promise<void> {
  const { formatVerdict } = await import('./audit-output.js');
  const line = formatVerdict(verdict, where);
  if (verdict.ok) io.stdout.write(line);
  else {
    io.stderr.write(line);
    io.exitCode = 1;
  }
}

/** Aborts when the io is asked to stop; keeps the process alive meanwhile (store polling and sockets may not). */
function untilStopped(io: CliIo): { signal: AbortSignal; dispose(): void } {
  const stop = new AbortController();
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const stopListening = io.onStop(() => stop.abort());
  return {
    signal: stop.signal,
    dispose() {
      clearInterval(keepAlive);
      stopListening();
    },
  };
}
