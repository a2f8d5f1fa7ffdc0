// The action of `trustctl gen config`, loaded only when that command runs.
import { join } from 'node:path';
import {
  ConfigError,
  endpointProblem,
  formatTalosconfig,
  generateMachineConfig,
  generateSecretsBundle,
  isIPAddress,
  issueClientCertificate,
  machineConfigProblems,
  MultiError,
  newContext,
  parseSecretsBundle,
  subjectAltNameProblem,
  validateSecretsBundle,
} from '../config/index.js';
import type { SecretsBundle } from '../config/index.js';
import type { AgeIdentityFlags } from './age-flags.js';
import { inCwd } from './cli-io.js';
import type { CliIo, CliPlace } from './cli-io.js';
import { cannotRead, readInputFile } from './input-file.js';
import { ageSeal } from './age-output.js';
import { writeFilesAtomic, refuseOverwrite } from './files.js';
import type { OutputFile } from './files.js';
import { OUTPUT_TYPES } from './gen.js';
import type { GenConfigOptions, OutputType } from './gen.js';
import { withTokenUse } from './pkcs11-use.js';
import type { TokenUse } from './pkcs11-use.js';
import { withProgress } from './progress.js';

export async function loadSecretsBundle(path: string, flags: AgeIdentityFlags, place: CliPlace): Promise<SecretsBundle> {
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

export async function genConfig(name: string, endpoint: string, opts: GenConfigOptions, io: CliIo): Promise<void> {
  if (!name.trim()) throw new Error('<cluster-name>: must not be empty');
  const endpointError = endpointProblem(endpoint);
  if (endpointError) throw new Error(`<endpoint>: ${endpointError}`);
  const types = parseOutputTypes(opts.outputTypes);
  const toStdout = opts.output === '-';
  if (toStdout && types.length !== 1) throw new Error('-o -: printing to stdout needs exactly one --output-types value');
  const sans = parseSans(opts.additionalSans);
  const fileOf = (t: OutputType) => join(opts.output, t === 'talosconfig' ? 'talosconfig' : `${t}.yaml`);
  if (!toStdout) for (const t of types) refuseOverwrite(fileOf(t), Boolean(opts.force), inCwd(io, fileOf(t)));
  const seal = await ageSeal(opts, io);

  const outputs = await withTokenUse(opts, io, async (use) => {
    const bundle = opts.withSecrets
      ? await loadSecretsBundle(opts.withSecrets, opts, io)
      : await withProgress(io.stderr, (step) => generateSecretsBundle({ osCAAlgorithm: opts.caAlgorithm, onStep: step, ...(use.newCA ? { newCA: use.newCA } : {}) }));
    const files: OutputFile[] = [];
    for (const type of types) {
      files.push({ path: inCwd(io, fileOf(type)), data: await seal(await renderOutput(type, bundle, name, endpoint, sans, opts, use)), mode: 0o600 });
    }
    if (toStdout) io.stdout.write(files[0].data);
    else await writeFilesAtomic(files, Boolean(opts.force));
    return types;
  });
  if (toStdout) return;
  for (const t of outputs) io.stderr.write(`created ${fileOf(t)}\n`);
  if (types.includes('talosconfig')) io.stderr.write(endpointNote(fileOf('talosconfig'), endpoint));
}

/**
 * The talosconfig's endpoint is the host of the Kubernetes endpoint, which is often a name only the nodes or a load
 * balancer know (`https://controlplane:6443`): say what was written and how to point it at the nodes' addresses.
 */
function endpointNote(path: string, endpoint: string): string {
  const host = endpointHost(endpoint);
  const change = `trustctl --talosconfig ${path} config endpoint <node address>...`;
  if (isIPAddress(host)) return `talosconfig endpoints: ${host} (the host of ${endpoint}); to use other nodes: ${change}\n`;
  return `talosconfig endpoints: ${host} (the host of ${endpoint}); if that name does not resolve from this machine, give the nodes' addresses instead: ${change}\n`;
}

async function renderOutput(type: OutputType, bundle: SecretsBundle, name: string, endpoint: string, sans: string[], opts: GenConfigOptions, use: TokenUse): Promise<string> {
  if (type === 'talosconfig') {
    const client = await issueClientCertificate(bundle.certs.os, { roles: ['os:admin'], signingCA: (os) => use.signingCA(os, 'certs.os') });
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
  const problems = machineConfigProblems(config, { now: new Date() });
  if (problems.length > 0) throw new Error(`generated ${type} config is invalid: ${new MultiError(problems).message}`);
  return config.toYaml();
}
