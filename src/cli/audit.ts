// `trustctl audit [-f] [--since 1h] [-o table|json]` prints a node's audit trail (over the API for os:admin and
// os:operator, or with --state from a local store); `-o json` is one JSON object per line, for a SIEM.
// `trustctl audit verify` checks the whole hash chain and the head signatures, naming the first record that was edited,
// removed or reordered, and exits 1 when there is one.
import { Option } from 'commander';
import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';
import { durationOption } from './duration.js';
import { remoteTargetOf, runsRemotely } from './remote-target.js';
import { STATE_OPTION_HELP } from './state-path.js';

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
    .action(async (opts: AuditOptions, cmd: Command) => {
      const action = await import('./audit-action.js');
      return runsRemotely(cmd, io.env) ? action.auditRemote(opts, remoteTargetOf(cmd), io) : action.auditLocal(opts, io);
    });
  audit
    .command('verify')
    .description("Check the audit trail's hash chain and head signatures; names the first record edited, removed or reordered (exit 1)")
    .option('--state <dir>', STATE_OPTION_HELP)
    .action(async (_opts: unknown, cmd: Command) => {
      const action = await import('./audit-action.js');
      // --state may come before or after `verify`; commander gives it to whichever command it follows.
      const { state } = cmd.optsWithGlobals<{ state?: string }>();
      return runsRemotely(cmd, io.env) ? action.verifyRemote(cmd, io) : action.verifyLocal(state, io);
    });
}
