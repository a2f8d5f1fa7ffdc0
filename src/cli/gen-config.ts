// `trustctl gen config`: control plane and worker machine configs and a talosconfig, from a secrets bundle or a new
// one. Every output is produced and checked before any file is written. The generators load only when it runs.
import { join } from 'node:path';
import type { Command } from 'commander';
import type * as ConfigModule from '../config/index.js';
import type { SecretsBundle } from '../config/index.js';
import { ageIdentityOption, ageRecipientOption, ageRecipientsFileOption } from './age-flags.js';
import type { AgeIdentityFlags, AgeRecipientFlags } from './age-flags.js';
import { caAlgorithmOption } from './ca-algorithm-flag.js';
import type { CaAlgorithm } from './ca-algorithm-flag.js';
import { inCwd } from './cli-io.js';
import type { CliIo, CliPlace } from './cli-io.js';
import type { OutputFile } from './files.js';
import { pkcs11Options } from './pkcs11-flags.js';
import type { Pkcs11Flags } from './pkcs11-flags.js';
import type { TokenUse } from './pkcs11-use.js';

export const OUTPUT_TYPES = ['controlplane', 'worker', 'talosconfig'] as const;
export type OutputType = (typeof OUTPUT_TYPES)[number];

export interface GenConfigOptions extends AgeIdentityFlags, AgeRecipientFlags, Pkcs11Flags {
  withSecrets?: string;
  outputTypes: string;
  output: string;
  force?: boolean;
  kubernetesVersion?: string;
  additionalSans?: string;
  installDisk?: string;
  caAlgorithm: CaAlgorithm;
}

export function registerGenConfigCommand(gen: Command, io: CliIo): void {
  const config = gen
    .command('config')
    .description('Generate control plane and worker machine configs and a talosconfig')
    .argument('<cluster-name>', 'the cluster name')
    .argument('<endpoint>', 'the Kubernetes API endpoint, e.g. https://10.0.0.1:6443')
    .option('--with-secrets <file>', 'use this secrets bundle (plain or age-encrypted) instead of generating one')
    .addOption(ageIdentityOption())
    .option('--output-types <types>', 'comma-separated outputs: controlplane, worker, talosconfig', OUTPUT_TYPES.join(','))
    .option('-o, --output <dir>', 'destination directory ("-" prints a single output type to stdout)', '.')
    .option('--force', 'overwrite existing files')
    .option('--kubernetes-version <version>', 'Kubernetes version for the component images')
    .option('--additional-sans <names>', 'comma-separated extra names for the Talos and Kubernetes API certificates')
    .option('--install-disk <disk>', 'the disk Talos installs to')
    .addOption(caAlgorithmOption())
    .addOption(ageRecipientOption('every output (the configs and the talosconfig)'))
    .addOption(ageRecipientsFileOption())
    .action((name: string, endpoint: string, opts: GenConfigOptions) => genConfig(name, endpoint, opts, io));
  for (const option of pkcs11Options()) config.addOption(option);
}

/** The bundle of --with-secrets, parsed and checked; a bad one is named with the fix. */
export async function loadSecretsBundle(path: string, flags: AgeIdentityFlags, place: CliPlace): Promise<SecretsBundle> {
  const { ConfigError, MultiError, parseSecretsBundle, validateSecretsBundle } = await import('../config/index.js');
  const { cannotRead, readInputFile } = await import('./input-file.js');
  const text = await readInputFile({ path, label: `secrets bundle "${path}"`, unreadable: (err) => cannotRead('--with-secrets', path, err) }, flags, place);
  try {
    return validateSecretsBundle(parseSecretsBundle(text, path), new Date());
  } catch (err) {
    if (err instanceof MultiError || err instanceof ConfigError) throw new Error(`secrets bundle "${path}" is invalid: ${err.message}`);
    throw err;
  }
}

function parseOutputTypes(value: string): OutputType[] {
  const types = value.split(',').map((t) => t.trim()).filter(Boolean);
  const unknown = types.filter((t) => !(OUTPUT_TYPES as readonly string[]).includes(t));
  if (unknown.length > 0) throw new Error(`--output-types: unknown type ${JSON.stringify(unknown[0])} (expected one or more of ${OUTPUT_TYPES.join(', ')})`);
  if (types.length === 0) throw new Error(`--output-types: at least one of ${OUTPUT_TYPES.join(', ')} is required`);
  return [...new Set(types)] as OutputType[];
}

function parseSans(value: string | undefined, subjectAltNameProblem: (san: string) => string | undefined): string[] {
  const sans = (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  sans.forEach((san, i) => {
    const problem = subjectAltNameProblem(san);
    if (problem) throw new Error(`--additional-sans[${i}]: ${problem}`);
  });
  return sans;
}

/** The host part of the endpoint: what talosctl puts in the talosconfig's endpoints. */
function endpointHost(endpoint: string): string {
  return new URL(endpoint).hostname.replace(/^\[|\]$/g, '');
}

export async function genConfig(name: string, endpoint: string, opts: GenConfigOptions, io: CliIo): Promise<void> {
  const config = await import('../config/index.js');
  const { endpointProblem, generateSecretsBundle } = config;
  const { ageSeal } = await import('./age-output.js');
  const { refuseOverwrite, writeFilesAtomic } = await import('./files.js');
  const { withTokenUse } = await import('./pkcs11-use.js');
  const { withProgress } = await import('./progress.js');
  if (!name.trim()) throw new Error('<cluster-name>: must not be empty');
  const endpointError = endpointProblem(endpoint);
  if (endpointError) throw new Error(`<endpoint>: ${endpointError}`);
  const types = parseOutputTypes(opts.outputTypes);
  const toStdout = opts.output === '-';
  if (toStdout && types.length !== 1) throw new Error('-o -: printing to stdout needs exactly one --output-types value');
  const sans = parseSans(opts.additionalSans, config.subjectAltNameProblem);
  const fileOf = (t: OutputType) => join(opts.output, t === 'talosconfig' ? 'talosconfig' : `${t}.yaml`);
  if (!toStdout) for (const t of types) refuseOverwrite(fileOf(t), Boolean(opts.force), inCwd(io, fileOf(t)));
  const seal = await ageSeal(opts, io);

  const outputs = await withTokenUse(opts, io, async (use) => {
    const bundle = opts.withSecrets
      ? await loadSecretsBundle(opts.withSecrets, opts, io)
      : await withProgress(io.stderr, (step) => generateSecretsBundle({ osCAAlgorithm: opts.caAlgorithm, onStep: step, ...(use.newCA ? { newCA: use.newCA } : {}) }));
    const files: OutputFile[] = [];
    for (const type of types) {
      files.push({ path: inCwd(io, fileOf(type)), data: await seal(await renderOutput(config, { type, bundle, name, endpoint, sans, opts, use })), mode: 0o600 });
    }
    if (toStdout) io.stdout.write(files[0].data);
    else await writeFilesAtomic(files, Boolean(opts.force));
    return types;
  });
  if (toStdout) return;
  for (const t of outputs) io.stderr.write(`created ${fileOf(t)}\n`);
  if (types.includes('talosconfig')) io.stderr.write(endpointNote(fileOf('talosconfig'), endpoint, config.isIPAddress));
}

/**
 * The talosconfig's endpoint is the host of the Kubernetes endpoint, which is often a name only the nodes or a load
 * balancer know (`https://controlplane:6443`): say what was written and how to point it at the nodes' addresses.
 */
function endpointNote(path: string, endpoint: string, isIPAddress: (host: string) => boolean): string {
  const host = endpointHost(endpoint);
  const change = `trustctl --talosconfig ${path} config endpoint <node address>...`;
  if (isIPAddress(host)) return `talosconfig endpoints: ${host} (the host of ${endpoint}); to use other nodes: ${change}\n`;
  return `talosconfig endpoints: ${host} (the host of ${endpoint}); if that name does not resolve from this machine, give the nodes' addresses instead: ${change}\n`;
}

interface Render {
  type: OutputType;
  bundle: SecretsBundle;
  name: string;
  endpoint: string;
  sans: string[];
  opts: GenConfigOptions;
  use: TokenUse;
}

async function renderOutput(config: typeof ConfigModule, { type, bundle, name, endpoint, sans, opts, use }: Render): Promise<string> {
  const { formatTalosconfig, generateMachineConfig, issueClientCertificate, machineConfigProblems, MultiError, newContext } = config;
  if (type === 'talosconfig') {
    const client = await issueClientCertificate(bundle.certs.os, { roles: ['os:admin'], signingCA: (os) => use.signingCA(os, 'certs.os') });
    const context = newContext([endpointHost(endpoint)], { caPem: bundle.certs.os.crt, crtPem: client.crt, keyPem: client.key });
    return formatTalosconfig({ context: name, contexts: { [name]: context } });
  }
  const machine = generateMachineConfig(bundle, {
    type,
    clusterName: name,
    endpoint,
    additionalSANs: sans,
    ...(opts.kubernetesVersion ? { kubernetesVersion: opts.kubernetesVersion } : {}),
    ...(opts.installDisk ? { installDisk: opts.installDisk } : {}),
  });
  // what we hand out must load back: validate every output before any file is written
  const problems = machineConfigProblems(machine, { now: new Date() });
  if (problems.length > 0) throw new Error(`generated ${type} config is invalid: ${new MultiError(problems).message}`);
  return machine.toYaml();
}
