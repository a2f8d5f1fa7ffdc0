// `trustctl gen secrets` and `trustctl gen config`: offline generation of a secrets bundle, machine configs and a
// talosconfig, like `talosctl gen`. Nothing is written unless every output was produced and checked.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Option } from 'commander';
import type { Command } from 'commander';
import {
  ConfigError,
  endpointProblem,
  formatSecretsBundleYaml,
  formatTalosconfig,
  generateMachineConfig,
  generateSecretsBundle,
  issueClientCertificate,
  machineConfigProblems,
  MultiError,
  newContext,
  parseSecretsBundle,
  readKubernetesPki,
  subjectAltNameProblem,
  validateSecretsBundle,
  isToken,
} from '../config/index.js';
import type { SecretsBundle, SuppliedSecrets } from '../config/index.js';
import { writeFilesAtomic, refuseOverwrite, writeFileAtomic } from './files.js';
import type { OutputFile } from './files.js';
import { createProgress } from './progress.js';

const OUTPUT_TYPES = ['controlplane', 'worker', 'talosconfig'] as const;
type OutputType = (typeof OUTPUT_TYPES)[number];

interface GenSecretsOptions {
  output: string;
  force?: boolean;
  fromKubernetesPki?: string;
  kubernetesBootstrapToken?: string;
  caAlgorithm: 'ecdsa' | 'ed25519' | 'rsa';
  serviceAccountAlgorithm: 'ecdsa' | 'rsa';
}

interface GenConfigOptions {
  withSecrets?: string;
  outputTypes: string;
  output: string;
  force?: boolean;
  kubernetesVersion?: string;
  additionalSans?: string;
  installDisk?: string;
  caAlgorithm: 'ecdsa' | 'ed25519' | 'rsa';
}

export function registerGenCommands(program: Command): void {
  const gen = program.command('gen').description('Generate secrets bundles, machine configs and talosconfigs (offline)');

  gen
    .command('secrets')
    .description('Generate a secrets bundle: cluster CAs, tokens and encryption keys')
    .option('-o, --output <file>', 'where to write the bundle ("-" for stdout)', 'secrets.yaml')
    .option('--force', 'overwrite an existing file')
    .option('--from-kubernetes-pki <dir>', 'take the Kubernetes, etcd and aggregator CAs and the service-account key from a kubeadm PKI directory')
    .option('--kubernetes-bootstrap-token <token>', 'with --from-kubernetes-pki: keep the existing kubeadm bootstrap token')
    .addOption(algorithmOption())
    .addOption(new Option('--service-account-algorithm <alg>', 'service-account key algorithm (rsa: RSA-4096)').choices(['ecdsa', 'rsa']).default('ecdsa'))
    .action(async (opts: GenSecretsOptions) => genSecrets(opts));

  gen
    .command('config')
    .description('Generate control plane and worker machine configs and a talosconfig')
    .argument('<cluster-name>', 'the cluster name')
    .argument('<endpoint>', 'the Kubernetes API endpoint, e.g. https://10.0.0.1:6443')
    .option('--with-secrets <file>', 'use this secrets bundle instead of generating one')
    .option('--output-types <types>', 'comma-separated outputs: controlplane, worker, talosconfig', OUTPUT_TYPES.join(','))
    .option('-o, --output <dir>', 'destination directory ("-" prints a single output type to stdout)', '.')
    .option('--force', 'overwrite existing files')
    .option('--kubernetes-version <version>', 'Kubernetes version for the component images')
    .option('--additional-sans <names>', 'comma-separated extra names for the Talos and Kubernetes API certificates')
    .option('--install-disk <disk>', 'the disk Talos installs to')
    .addOption(algorithmOption())
    .action(async (name: string, endpoint: string, opts: GenConfigOptions) => genConfig(name, endpoint, opts));
}

function algorithmOption(): Option {
  return new Option('--ca-algorithm <alg>', 'key algorithm of a newly generated OS (Talos API) CA').choices(['ecdsa', 'ed25519', 'rsa']).default('ecdsa');
}

async function genSecrets(opts: GenSecretsOptions): Promise<void> {
  const toStdout = opts.output === '-';
  if (!toStdout) refuseOverwrite(opts.output, Boolean(opts.force));
  if (opts.kubernetesBootstrapToken !== undefined && !isToken(opts.kubernetesBootstrapToken))
    throw new Error('--kubernetes-bootstrap-token: expected a token like abcdef.0123456789abcdef');

  const supplied: SuppliedSecrets = opts.fromKubernetesPki ? await readKubernetesPki(opts.fromKubernetesPki) : {};
  if (opts.kubernetesBootstrapToken) supplied.bootstrapToken = opts.kubernetesBootstrapToken;
  const bundle = await withProgress((step) =>
    generateSecretsBundle({ osCAAlgorithm: opts.caAlgorithm, serviceAccountAlgorithm: opts.serviceAccountAlgorithm, supplied, onStep: step }),
  );
  const text = formatSecretsBundleYaml(bundle);
  if (toStdout) process.stdout.write(text);
  else await writeFileAtomic({ path: opts.output, data: text, mode: 0o600 });
}

async function withProgress<T>(work: (step: (message: string) => void) => Promise<T>): Promise<T> {
  const progress = createProgress();
  try {
    return await work((m) => progress.step(m));
  } finally {
    progress.done();
  }
}

export async function loadSecretsBundle(path: string): Promise<SecretsBundle> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`--with-secrets: cannot read "${path}": ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  try {
    return validateSecretsBundle(parseSecretsBundle(text, path));
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

function parseSans(value: string | undefined): string[] {
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

async function genConfig(name: string, endpoint: string, opts: GenConfigOptions): Promise<void> {
  if (!name.trim()) throw new Error('<cluster-name>: must not be empty');
  const endpointError = endpointProblem(endpoint);
  if (endpointError) throw new Error(`<endpoint>: ${endpointError}`);
  const types = parseOutputTypes(opts.outputTypes);
  const toStdout = opts.output === '-';
  if (toStdout && types.length !== 1) throw new Error('-o -: printing to stdout needs exactly one --output-types value');
  const sans = parseSans(opts.additionalSans);
  const fileOf = (t: OutputType) => join(opts.output, t === 'talosconfig' ? 'talosconfig' : `${t}.yaml`);
  if (!toStdout) for (const t of types) refuseOverwrite(fileOf(t), Boolean(opts.force));

  const bundle = opts.withSecrets
    ? await loadSecretsBundle(opts.withSecrets)
    : await withProgress((step) => generateSecretsBundle({ osCAAlgorithm: opts.caAlgorithm, onStep: step }));

  const outputs: OutputFile[] = [];
  for (const type of types) {
    outputs.push({ path: fileOf(type), data: await renderOutput(type, bundle, name, endpoint, sans, opts), mode: 0o600 });
  }
  if (toStdout) {
    process.stdout.write(outputs[0].data);
    return;
  }
  await writeFilesAtomic(outputs, Boolean(opts.force));
  for (const o of outputs) process.stderr.write(`created ${o.path}\n`);
}

async function renderOutput(type: OutputType, bundle: SecretsBundle, name: string, endpoint: string, sans: string[], opts: GenConfigOptions): Promise<string> {
  if (type === 'talosconfig') {
    const client = await issueClientCertificate(bundle.certs.os, { roles: ['os:admin'] });
    const context = newContext([endpointHost(endpoint)], { caPem: bundle.certs.os.crt, crtPem: client.crt, keyPem: client.key });
    return formatTalosconfig({ context: name, contexts: { [name]: context } });
  }
  const config = generateMachineConfig(bundle, {
    type,
    clusterName: name,
    endpoint,
    additionalSANs: sans,
    ...(opts.kubernetesVersion ? { kubernetesVersion: opts.kubernetesVersion } : {}),
    ...(opts.installDisk ? { installDisk: opts.installDisk } : {}),
  });
  // what we hand out must load back: validate every output before any file is written
  const problems = machineConfigProblems(config);
  if (problems.length > 0) throw new Error(`generated ${type} config is invalid: ${new MultiError(problems).message}`);
  return config.toYaml();
}
