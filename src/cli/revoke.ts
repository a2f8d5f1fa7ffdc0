// `trustctl revoke`: revokes one certificate without rotating its CA (a leaked talosconfig, a compromised node), over
// the API (os:admin) or on a local store with --state; `--undo` lifts a revocation. `trustctl crl <ca>` prints a CA's
// CRL. The certificate is named by what the user has in hand: the file, the talosconfig, its serial or fingerprint.
import { Argument, Option } from 'commander';
import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';
import { CA_NAMES } from '../resources/common.js';
import { REVOCATION_REASON_NAMES } from '../pki/crl.js';
import { STATE_OPTION_HELP } from './state-path.js';

export interface RevokeOptions {
  cert?: string;
  serial?: string;
  fingerprint?: string;
  reason?: string;
  reasonCode?: string;
  ca?: string;
  undo?: boolean;
  state?: string;
}

export function registerRevokeCommands(program: Command, io: CliIo): void {
  program
    .command('revoke')
    .description('Revoke one certificate (apid refuses it from the next request, trustd signs nothing more for a revoked node, the CRL lists it); --undo lifts it')
    .option('--cert <file>', 'the PEM certificate to revoke')
    .option('--serial <hex>', 'the serial number of the certificate to revoke (add --ca unless this node holds the certificate)')
    .option('--fingerprint <sha256>', 'the SHA-256 fingerprint of a certificate this node holds')
    // Never filled in here: the program reads --talosconfig/--context; revoke-args.ts tells which side they stood on.
    .option('--talosconfig <file>', "after `revoke`: the talosconfig whose client certificate to revoke (before it: the one to connect with)")
    .option('--context <name>', 'with --talosconfig after `revoke`: the context whose certificate to revoke (default: its current one)')
    .option('--reason <text>', 'why, in a few words: shown to whoever presents the certificate')
    .addOption(new Option('--reason-code <code>', 'the RFC 5280 reason in the CRL (default keyCompromise)').choices(REVOCATION_REASON_NAMES))
    .addOption(new Option('--ca <ca>', 'the CA that issued it, where the serial alone is ambiguous').choices(CA_NAMES))
    .option('--undo', 'lift the revocation instead')
    .option('--state <dir>', STATE_OPTION_HELP)
    .action(async (opts: RevokeOptions, cmd: Command) => (await import('./revoke-action.js')).revoke(opts, cmd, io));

  program
    .command('crl')
    .description("Print a CA's certificate revocation list (PEM), as the control plane publishes it (also served at https://<control plane>:<trustd port>/crl/<ca>.crl)")
    .addArgument(new Argument('<ca>', 'the CA: os, kubernetes, etcd or aggregator').choices(CA_NAMES))
    .option('--state <dir>', STATE_OPTION_HELP)
    .action(async (ca: string, opts: { state?: string }, cmd: Command) => (await import('./revoke-action.js')).printCrl(ca, opts, cmd, io));
}
