// `trustctl rotate-ca`: rotates the Talos API (os), Kubernetes, etcd and/or aggregator CAs with no downtime, like
// talosctl's (which rotates only the first two). The new CA is made here; a control plane (the endpoint) records the
// rotation as a CARotation resource and its rotation driver moves every node through the phases, resuming after a
// restart. This command follows the resource, prints a
// `> ` line per stage, and at the end writes a talosconfig whose client certificate comes from the new OS CA.
// Dry-run (the default) talks to no node: it says what would happen.
import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';
import { pkcs11Options } from './pkcs11-flags.js';
import type { Pkcs11Flags } from './pkcs11-flags.js';
import { remoteTargetOf } from './remote-target.js';

export interface RotateOptions extends Pkcs11Flags {
  talos?: boolean;
  kubernetes?: boolean;
  etcd?: boolean;
  aggregator?: boolean;
  dryRun: boolean;
  output: string;
  /** The secrets bundle to rewrite with the rotated CAs at the end (FILE.bak keeps the previous one). */
  withSecrets?: string;
  controlPlaneNodes: string[];
  workerNodes: string[];
  /** etcd members (host[:port]) an etcd rotation waits for at each phase. */
  etcdEndpoints: string[];
}

const list = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];

function bool(value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new Error(`--dry-run: expected true or false, got ${JSON.stringify(value)}`);
}

export function registerRotateCaCommand(program: Command, io: CliIo): void {
  const rotate = program
    .command('rotate-ca')
    .description('Rotate the Talos API, Kubernetes, etcd and/or aggregator CA across the cluster with no downtime (dry-run unless --dry-run=false)')
    .option('--talos', 'rotate the Talos API (os) CA (default, with --kubernetes, when no CA is named)')
    .option('--kubernetes', 'rotate the Kubernetes CA (cluster.ca, through cluster.acceptedCAs)')
    .option('--etcd', 'rotate the etcd CA (cluster.etcd.ca; control planes trust both through ExtraAcceptedCAs/etcd meanwhile)')
    .option('--aggregator', 'rotate the aggregator CA (cluster.aggregatorCA; control planes trust both through ExtraAcceptedCAs/aggregator meanwhile)')
    .option('--dry-run [bool]', 'print what would be done and change nothing', bool, true)
    .option('-o, --output <path>', 'where to write the new talosconfig (client certificate from the new OS CA)', 'talosconfig')
    .option('--with-secrets <file>', 'the secrets bundle the cluster was generated from: rewritten at the end with the rotated CAs (the previous one kept as FILE.bak), so gen config keeps making nodes that can join')
    .option('--control-plane-nodes <nodes>', 'control-plane apid addresses host[:port] (default: the endpoint)', list, [])
    .option('--worker-nodes <nodes>', 'worker apid addresses host[:port]', list, [])
    .option('--etcd-endpoints <endpoints>', 'with --etcd: the etcd members host[:port] (port 2379 by default); each phase waits until every member trusts what it asks (etcd reads its trusted CA files only at start-up: restart each member when told)', list, [])
    .action(async (opts: RotateOptions, cmd: Command) => (await import('./rotate-ca-action.js')).rotateCa(opts, remoteTargetOf(cmd), io));
  // the new CA key is made in this token, which must be the one the control planes sign with (serve's same flags)
  for (const option of pkcs11Options()) rotate.addOption(option);
}
