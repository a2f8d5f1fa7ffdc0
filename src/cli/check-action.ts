// The action of `trustctl check` (check.ts declares the command), loaded only when it runs.
import { existsSync } from 'node:fs';
import { DateTime } from 'luxon';
import { contextCredentials, readTalosconfigFile, resolveTalosconfigPath } from '../config/index.js';
import type { CheckReport, HeldClientCertificate } from '../server/check/index.js';
import { withClientCertificates } from '../server/check/client-certificates.js';
import type { RemoteTarget } from './api-client.js';
import type { CheckCliOptions } from './check.js';
import { inCwd } from './cli-io.js';
import type { CliIo, CliPlace } from './cli-io.js';
import { UNHEALTHY_EXIT_CODE } from './constants.js';
import { requireStore, resolveStateDir } from './state-path.js';

/** The talosconfig's client certificates: the flag's file (which must exist), else the default one when present. */
export async function heldClientCertificates(flag: string | undefined, place: CliPlace): Promise<HeldClientCertificate[]> {
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

/** Over the API: each node (or the endpoint) runs the check; the talosconfig in use is judged here. */
export async function checkRemote(opts: CheckCliOptions, target: RemoteTarget, io: CliIo, now: DateTime = DateTime.utc()): Promise<void> {
  const clientCertificates = await heldClientCertificates(target.talosconfig, io);
  const { connectApi } = await import('./api-client.js');
  const { paths } = await import('../server/apid/api-paths.js');
  const { client, nodes } = await connectApi(target, io);
  try {
    const reports: Record<string, CheckReport> = {};
    for (const node of nodes.length > 0 ? nodes : [undefined]) {
      const remote = await client.call<CheckReport>('POST', paths.check, { body: { years: opts.years }, ...(node ? { node } : {}) });
      reports[node ?? client.endpoint.host] = withClientCertificates(remote, clientCertificates, now.toJSDate());
    }
    const entries = Object.entries(reports);
    if (opts.output === 'json') io.stdout.write(`${JSON.stringify(nodes.length > 0 ? reports : entries[0][1], null, 2)}\n`);
    else io.stdout.write(entries.map(([node, r]) => (nodes.length > 0 ? `NODE ${node}\n` : '') + formatCheckReport(r)).join('\n'));
    if (entries.some(([, r]) => r.findings.length > 0)) io.exitCode = UNHEALTHY_EXIT_CODE;
  } finally {
    client.close();
  }
}

export async function check(opts: CheckCliOptions, talosconfig: string | undefined, io: CliIo, now: DateTime = DateTime.utc()): Promise<CheckReport> {
  const stateDir = resolveStateDir(opts.state, io);
  requireStore(stateDir);
  const clientCertificates = await heldClientCertificates(talosconfig, io);
  const { checkStateDir } = await import('../server/check/index.js');
  const report = await checkStateDir(stateDir, { from: now, years: opts.years, clientCertificates });
  io.stdout.write(opts.output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatCheckReport(report));
  if (report.findings.length > 0) io.exitCode = UNHEALTHY_EXIT_CODE;
  return report;
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
