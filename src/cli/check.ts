// `trustctl check`: runs the node's own controllers years ahead over a copy of its store (--state), or asks each node to
// (-e/-n, os:admin), and prints the renewal calendar and every problem foreseen (exit 2 with findings, like `get
// securitystatus`). The node is not changed. The simulation, the API client and the talosconfig reader load only when
// the command runs.
import { existsSync } from 'node:fs';
import { Option } from 'commander';
import type { Command } from 'commander';
import type { CheckReport, HeldClientCertificate } from '../server/check/index.js';
import type { RemoteTarget } from './api-client.js';
import { inCwd } from './cli-io.js';
import type { CliIo, CliPlace } from './cli-io.js';
import { UNHEALTHY_EXIT_CODE } from './constants.js';
import { remoteTargetOf } from './remote-target.js';
import { STATE_OPTION_HELP, requireStore, resolveStateDir } from './state-path.js';

export const CHECK_FORMATS = ['table', 'json'] as const;
export type CheckFormat = (typeof CHECK_FORMATS)[number];

export interface CheckCliOptions {
  years: number;
  state?: string;
  output: CheckFormat;
}

/** Whole years from 1 to 100: beyond that a CA's end is already the answer. */
export function parseYears(value: string): number {
  const years = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(years) || years < 1 || years > 100) {
    throw new Error(`--years: expected a whole number of years from 1 to 100, got ${JSON.stringify(value)}`);
  }
  return years;
}

export function registerCheckCommand(program: Command, io: CliIo): void {
  program
    .command('check')
    .description("Run the node's controllers years ahead on a copy of its store: the renewal calendar and every problem foreseen (exit 2 when any)")
    .option('--years <n>', 'how far ahead to look', parseYears, 10)
    .option('--state <dir>', `${STATE_OPTION_HELP}; with -e/-n the node runs the check (os:admin)`)
    .addOption(new Option('-o, --output <format>', 'output format').choices(CHECK_FORMATS).default('table'))
    .action(async (opts: CheckCliOptions, cmd: Command) => {
      const { endpoints, nodes, talosconfig } = cmd.optsWithGlobals<{ endpoints?: string[]; nodes?: string[]; talosconfig?: string }>();
      const remote = Boolean(endpoints?.length || nodes?.length);
      if (remote && opts.state) throw new Error("--state reads a local node's store, -e/-n ask apid to run the check: use one or the other");
      const target = remoteTargetOf(cmd);
      const from = remote ? apiChecks(target, io) : storeCheck(opts.state, talosconfig, io);
      const { reports, byNode } = await from(opts.years, new Date());
      const entries = Object.entries(reports);
      if (opts.output === 'json') io.stdout.write(`${JSON.stringify(byNode ? reports : entries[0][1], null, 2)}\n`);
      else io.stdout.write(entries.map(([node, r]) => (byNode ? `NODE ${node}\n` : '') + formatCheckReport(r)).join('\n'));
      if (entries.some(([, r]) => r.findings.length > 0)) io.exitCode = UNHEALTHY_EXIT_CODE;
    });
}

/** Where the check runs; both answer reports by node (one, unlabelled, for a local store or the endpoint alone). */
type CheckSource = (years: number, now: Date) => Promise<{ reports: Record<string, CheckReport>; byNode: boolean }>;

/** --state: the simulation runs here, over a copy of the store. */
function storeCheck(stateFlag: string | undefined, talosconfig: string | undefined, io: CliIo): CheckSource {
  return async (years, now) => {
    const stateDir = resolveStateDir(stateFlag, io);
    requireStore(stateDir);
    const clientCertificates = await heldClientCertificates(talosconfig, io);
    const { DateTime } = await import('luxon');
    const { checkStateDir } = await import('../server/check/index.js');
    return { reports: { local: await checkStateDir(stateDir, { from: DateTime.fromJSDate(now).toUTC(), years, clientCertificates, keyEnv: io.env }) }, byNode: false };
  };
}

/** Over the API: each node (or the endpoint) runs the check; the talosconfig in use is judged here. */
function apiChecks(target: RemoteTarget, io: CliIo): CheckSource {
  return async (years, now) => {
    const clientCertificates = await heldClientCertificates(target.talosconfig, io);
    const { connectApi } = await import('./api-client.js');
    const { paths } = await import('../server/apid/api-paths.js');
    const { withClientCertificates } = await import('../server/check/client-certificates.js');
    const { client, nodes } = await connectApi(target, io);
    try {
      const reports: Record<string, CheckReport> = {};
      for (const node of nodes.length > 0 ? nodes : [undefined]) {
        const remote = await client.call<CheckReport>('POST', paths.check, { body: { years }, ...(node ? { node } : {}) });
        reports[node ?? client.endpoint.host] = withClientCertificates(remote, clientCertificates, now);
      }
      return { reports, byNode: nodes.length > 0 };
    } finally {
      client.close();
    }
  };
}

/** The talosconfig's client certificates: the flag's file (which must exist), else the default one when present. */
async function heldClientCertificates(flag: string | undefined, place: CliPlace): Promise<HeldClientCertificate[]> {
  const { contextCredentials, readTalosconfigFile, resolveTalosconfigPath } = await import('../config/index.js');
  const path = resolveTalosconfigPath(flag, place.env);
  if (!existsSync(inCwd(place, path))) {
    if (flag) throw new Error(`--talosconfig: "${flag}" does not exist`);
    return [];
  }
  const config = await readTalosconfigFile(path, inCwd(place, path));
  return Object.entries(config.contexts)
    .map(([name, ctx]) => ({ subject: `talosconfig ${path} context "${name}"`, crtPem: contextCredentials(name, ctx).crtPem }))
    .filter((h) => h.crtPem !== '');
}

const day = (iso: string | undefined) => (iso ? iso.slice(0, 10) : '-');

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows].map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('   ')).join('\n') + '\n';
}

export function formatCheckReport(report: CheckReport): string {
  const head = `check ${day(report.from)} .. ${day(report.to)}` + (report.simulatedUntil < report.to ? ` (simulated until ${report.simulatedUntil}, a day before a CA ends)` : '') + '\n\n';
  const calendar = table(
    ['ID', 'CA', 'RENEWALS', 'FIRST RENEWAL', 'LAST RENEWAL'],
    report.certificates.map((c) => [c.id, c.ca, c.kind === 'ca' ? '-' : `${c.estimated ? '~' : ''}${c.renewals}`, day(c.firstRenewal), day(c.lastRenewal)]),
  );
  const findings =
    report.findings.length === 0
      ? 'no problems foreseen\n'
      : table(
          ['SEVERITY', 'WHEN', 'SUBJECT', 'PROBLEM', 'FIX'],
          report.findings.map((f) => [f.severity, day(f.at), f.subject, f.message, f.fix]),
        );
  return `${head}${calendar}\n${findings}`;
}
