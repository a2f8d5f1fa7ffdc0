// `trustctl serve`: runs a node in the foreground — the runtime and the node's controllers on the store in --state —
// after applying --config when it differs from the stored MachineConfig. Logs are one line each on stderr. SIGTERM or
// SIGINT stops cleanly (exit 0). `--once` runs until every controller is idle, prints a summary and exits: 0 when all
// is well, 1 when a controller keeps failing.
import { pkcs11Options } from './pkcs11-flags.js';
import { Option } from 'commander';
import type { Command } from 'commander';
// subject-alt-name.js, not the config index: validating --node-ip must not load the whole of src/config.
import { hostnameProblem, isIPAddress } from '../config/subject-alt-name.js';
// node-address.js alone, not the apid index: parsing --member must not load the server.
import { parseNodeAddress } from '../server/apid/node-address.js';
import { ageIdentityOption } from './age-flags.js';
import { durationOption, LIFETIME_BOUNDS_HELP } from './duration.js';
import { STATE_OPTION_HELP } from './state-path.js';
import type { ServeOptions } from './serve-options.js';
import type { CliIo } from './cli-io.js';

export function registerServeCommand(program: Command, io: CliIo): void {
  const serve = program
    .command('serve')
    .description('Run a node in the foreground: the controllers that issue, renew and report every certificate')
    .option('--config <file>', 'machine config to apply on start (when it differs from the stored one); plain or age-encrypted')
    .addOption(ageIdentityOption())
    .option('--state <dir>', STATE_OPTION_HELP)
    .option('--store <url>', 'a shared store instead of the SQLite file: etcd://HOST:PORT[,HOST:PORT]/PREFIX (replicas elect one leader to run the controllers)')
    .option('--node-ip <ip>', "the node's address for certificate SANs (repeatable; default: the host's addresses)", collectIp, [])
    .option('--hostname <name>', "the node's hostname for certificate SANs (default: machine.network.hostname, else the OS's)", hostnameOption)
    .option('--once', 'run until every controller is idle, print a summary and exit (non-zero if a controller keeps failing)')
    .addOption(new Option('--log-format <format>', 'log line format on stderr').choices(['logfmt', 'json']).default('logfmt'))
    .option('--api-lifetime <duration>', `lifetime of the apid certificates (Go syntax; default 24h; ${LIFETIME_BOUNDS_HELP})`, durationOption('--api-lifetime'))
    .option('--trustd-lifetime <duration>', `lifetime of the trustd certificate (default 24h; ${LIFETIME_BOUNDS_HELP})`, durationOption('--trustd-lifetime'))
    .option('--etcd-lifetime <duration>', `lifetime of the etcd certificates (default 87600h; ${LIFETIME_BOUNDS_HELP})`, durationOption('--etcd-lifetime'))
    .option('--kubernetes-lifetime <duration>', `lifetime of the Kubernetes certificates (default 8760h; ${LIFETIME_BOUNDS_HELP})`, durationOption('--kubernetes-lifetime'))
    .option('--listen-address <ip>', 'address apid and trustd listen on', '0.0.0.0')
    .option('--apid-port <port>', 'apid port (mutual TLS API)', portOption('--apid-port'), 50000)
    .option('--trustd-port <port>', 'trustd port (control-plane nodes only)', portOption('--trustd-port'), 50001)
    .option('--trustd-endpoint <host:port>', 'where a worker finds trustd (repeatable; default: the control-plane endpoint host, port 50001)', collect, [])
    .option('--member <host[:port]>', "another node of the cluster that apid forwards -n calls to (repeatable; the node itself and the nodes of a CA rotation it drives need not be listed; port: the apid port)", collectMember, [])
    .option('--max-watches-per-client <n>', 'open watch streams one client certificate may hold on apid (more get 429)', countOption('--max-watches-per-client'), 100)
    .option('--max-watches <n>', 'open watch streams apid serves in all (more get 429)', countOption('--max-watches'), 1000)
    .option('--audit-retention <duration>', 'how long audit records are kept (Go syntax; default 8760h); older ones are pruned, and the pruning recorded', auditRetentionOption)
    .option('--audit-max-records <n>', 'how many audit records are kept at most (default 100000); the oldest are pruned first', auditRecordsOption)
    .option('--metrics-addr <host:port>', 'serve Prometheus metrics over plain HTTP at this address (e.g. 127.0.0.1:9100)')
    .action(async (opts: ServeOptions) => (await import('./serve-action.js')).serve(opts, io));
  // a config whose CA keys are pkcs11: URIs signs in this token: leaf issuance by the controllers and CSRs in trustd
  for (const option of pkcs11Options()) serve.addOption(option);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function portOption(flag: string): (value: string) => number {
  return (value) => {
    const port = Number(value);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${flag}: expected a port number 0-65535, got ${JSON.stringify(value)}`);
    return port;
  };
}

function countOption(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag}: expected a whole number >= 1, got ${JSON.stringify(value)}`);
    return n;
  };
}

function auditRetentionOption(value: string): number {
  const ms = durationOption('--audit-retention')(value);
  if (!(ms > 0)) throw new Error(`--audit-retention: expected a duration above zero such as 720h, got ${JSON.stringify(value)}`);
  return ms;
}

function auditRecordsOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 2) throw new Error(`--audit-max-records: expected a whole number >= 2 (the newest record and the one saying what was pruned), got ${JSON.stringify(value)}`);
  return n;
}

function collectMember(value: string, previous: string[]): string[] {
  try {
    parseNodeAddress(value);
  } catch (err) {
    throw new Error(`--member: ${(err as Error).message}`);
  }
  return [...previous, value];
}

function hostnameOption(value: string): string {
  const problem = hostnameProblem(value);
  if (problem) throw new Error(`--hostname: ${problem}`);
  return value;
}

function collectIp(value: string, previous: string[]): string[] {
  if (!isIPAddress(value)) throw new Error(`--node-ip: expected an IP address, got ${JSON.stringify(value)}`);
  return [...previous, value];
}
