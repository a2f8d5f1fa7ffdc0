// `trustctl gen secrets` and `trustctl gen config`: offline generation of a secrets bundle, machine configs and a
// talosconfig, like `talosctl gen`. Nothing is written unless every output was produced and checked.
// Only the options and help live here: each action loads its modules when it runs (gen-secrets.ts, gen-config.ts),
// so starting trustctl does not pay for what the chosen command does not use.
import { Option } from 'commander';
import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';
import { ageIdentityOption, ageRecipientOption, ageRecipientsFileOption } from './age-flags.js';
import type { AgeIdentityFlags, AgeRecipientFlags } from './age-flags.js';
import { pkcs11Options } from './pkcs11-flags.js';
import type { Pkcs11Flags } from './pkcs11-flags.js';

export const OUTPUT_TYPES = ['controlplane', 'worker', 'talosconfig'] as const;
export type OutputType = (typeof OUTPUT_TYPES)[number];

export interface GenSecretsOptions extends AgeRecipientFlags, Pkcs11Flags {
  pkcs11Import?: boolean;
  output: string;
  force?: boolean;
  fromKubernetesPki?: string;
  kubernetesBootstrapToken?: string;
  caAlgorithm: 'ecdsa' | 'ed25519' | 'rsa';
  serviceAccountAlgorithm: 'ecdsa' | 'rsa';
}

export interface GenConfigOptions extends AgeIdentityFlags, AgeRecipientFlags, Pkcs11Flags {
  withSecrets?: string;
  outputTypes: string;
  output: string;
  force?: boolean;
  kubernetesVersion?: string;
  additionalSans?: string;
  installDisk?: string;
  caAlgorithm: 'ecdsa' | 'ed25519' | 'rsa';
}

export function registerGenCommands(program: Command, io: CliIo): void {
  const gen = program.command('gen').description('Generate secrets bundles, machine configs and talosconfigs (offline)');

  const secrets = gen
    .command('secrets')
    .description('Generate a secrets bundle: cluster CAs, tokens and encryption keys')
    .option('-o, --output <file>', 'where to write the bundle ("-" for stdout)', 'secrets.yaml')
    .option('--force', 'overwrite an existing file')
    .option('--from-kubernetes-pki <dir>', 'take the Kubernetes, etcd and aggregator CAs and the service-account key from a kubeadm PKI directory')
    .option('--kubernetes-bootstrap-token <token>', 'with --from-kubernetes-pki: keep the existing kubeadm bootstrap token')
    .addOption(algorithmOption())
    .addOption(new Option('--service-account-algorithm <alg>', 'service-account key algorithm (rsa: RSA-4096)').choices(['ecdsa', 'rsa']).default('ecdsa'))
    .addOption(ageRecipientOption('the bundle'))
    .addOption(ageRecipientsFileOption())
    .addHelpText('after', '\nWith --pkcs11-module, --pkcs11-token and --pkcs11-pin-file the four CA keys are generated inside the token\n(sensitive, never extractable) and the bundle holds their pkcs11: URIs instead of keys.')
    .action(async (opts: GenSecretsOptions) => (await import('./gen-secrets.js')).genSecrets(opts, io));
  for (const option of pkcs11Options()) secrets.addOption(option);
  secrets.option('--pkcs11-import', 'with --from-kubernetes-pki: move the imported CA keys into the token; the bundle holds their pkcs11: URIs, not the keys');

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
    .addOption(algorithmOption())
    .addOption(ageRecipientOption('every output (the configs and the talosconfig)'))
    .addOption(ageRecipientsFileOption())
    .action(async (name: string, endpoint: string, opts: GenConfigOptions) => (await import('./gen-config.js')).genConfig(name, endpoint, opts, io));
  for (const option of pkcs11Options()) config.addOption(option);
}

function algorithmOption(): Option {
  return new Option('--ca-algorithm <alg>', 'key algorithm of a newly generated OS (Talos API) CA').choices(['ecdsa', 'ed25519', 'rsa']).default('ecdsa');
}
