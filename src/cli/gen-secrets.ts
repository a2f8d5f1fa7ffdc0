// `trustctl gen secrets`: a secrets bundle (cluster CAs, tokens, encryption keys), new or around a kubeadm PKI, with
// its CA keys optionally in a PKCS#11 token. Nothing is written unless the whole bundle was made. The generators load
// only when the command runs, and only the few src/config modules it needs: the index brings machine configs,
// talosconfigs and patches this command never uses.
import { join } from 'node:path';
import { Option } from 'commander';
import type { Command } from 'commander';
import type { SuppliedSecrets } from '../config/secrets-bundle-generate.js';
import { ageRecipientOption, ageRecipientsFileOption } from './age-flags.js';
import type { AgeRecipientFlags } from './age-flags.js';
import { caAlgorithmOption } from './ca-algorithm-flag.js';
import type { CaAlgorithm } from './ca-algorithm-flag.js';
import { inCwd } from './cli-io.js';
import type { CliIo } from './cli-io.js';
import { pkcs11Options } from './pkcs11-flags.js';
import type { Pkcs11Flags } from './pkcs11-flags.js';
import type { TokenUse } from './pkcs11-use.js';

export interface GenSecretsOptions extends AgeRecipientFlags, Pkcs11Flags {
  pkcs11Import?: boolean;
  output: string;
  force?: boolean;
  fromKubernetesPki?: string;
  kubernetesBootstrapToken?: string;
  caAlgorithm: CaAlgorithm;
  serviceAccountAlgorithm: 'ecdsa' | 'rsa';
}

export function registerGenSecretsCommand(gen: Command, io: CliIo): void {
  const secrets = gen
    .command('secrets')
    .description('Generate a secrets bundle: cluster CAs, tokens and encryption keys')
    .option('-o, --output <file>', 'where to write the bundle ("-" for stdout)', 'secrets.yaml')
    .option('--force', 'overwrite an existing file')
    .option('--from-kubernetes-pki <dir>', 'take the Kubernetes, etcd and aggregator CAs and the service-account key from a kubeadm PKI directory')
    .option('--kubernetes-bootstrap-token <token>', 'with --from-kubernetes-pki: keep the existing kubeadm bootstrap token')
    .addOption(caAlgorithmOption())
    .addOption(new Option('--service-account-algorithm <alg>', 'service-account key algorithm (rsa: RSA-4096)').choices(['ecdsa', 'rsa']).default('ecdsa'))
    .addOption(ageRecipientOption('the bundle'))
    .addOption(ageRecipientsFileOption())
    .addHelpText('after', '\nWith --pkcs11-module, --pkcs11-token and --pkcs11-pin-file the four CA keys are generated inside the token\n(sensitive, never extractable) and the bundle holds their pkcs11: URIs instead of keys.')
    .action((opts: GenSecretsOptions) => genSecrets(opts, io));
  for (const option of pkcs11Options()) secrets.addOption(option);
  secrets.option('--pkcs11-import', 'with --from-kubernetes-pki: move the imported CA keys into the token; the bundle holds their pkcs11: URIs, not the keys');
}

export async function genSecrets(opts: GenSecretsOptions, io: CliIo): Promise<void> {
  const { generateSecretsBundle } = await import('../config/secrets-bundle-generate.js');
  const { formatSecretsBundleYaml } = await import('../config/secrets-bundle-codec.js');
  const { readKubernetesPki } = await import('../config/kubernetes-pki.js');
  const { isToken } = await import('../config/random-token.js');
  const { ageSeal } = await import('./age-output.js');
  const { refuseOverwrite, writeFileAtomic } = await import('./files.js');
  const { withTokenUse } = await import('./pkcs11-use.js');
  const { withProgress } = await import('./progress.js');
  const toStdout = opts.output === '-';
  const output = inCwd(io, opts.output);
  if (!toStdout) refuseOverwrite(opts.output, Boolean(opts.force), output);
  if (opts.kubernetesBootstrapToken !== undefined && !isToken(opts.kubernetesBootstrapToken))
    throw new Error('--kubernetes-bootstrap-token: expected a token like abcdef.0123456789abcdef');
  const seal = await ageSeal(opts, io);

  const supplied: SuppliedSecrets = opts.fromKubernetesPki ? await readKubernetesPki(inCwd(io, opts.fromKubernetesPki), new Date()) : {};
  if (opts.kubernetesBootstrapToken) supplied.bootstrapToken = opts.kubernetesBootstrapToken;
  if (opts.pkcs11Import && !opts.fromKubernetesPki) throw new Error('--pkcs11-import: moves the CA keys of --from-kubernetes-pki into the token; give --from-kubernetes-pki DIR too');
  // written inside the token's use: if writing fails, the CA keys just made in the token are removed again
  await withTokenUse(opts, io, async (use) => {
    if (opts.pkcs11Import) importKubernetesCAs(supplied, use, inCwd(io, opts.fromKubernetesPki!));
    const bundle = await withProgress(io.stderr, (step) =>
      generateSecretsBundle({ osCAAlgorithm: opts.caAlgorithm, serviceAccountAlgorithm: opts.serviceAccountAlgorithm, supplied, onStep: step, ...(use.newCA ? { newCA: use.newCA } : {}) }),
    );
    const text = await seal(formatSecretsBundleYaml(bundle));
    if (toStdout) io.stdout.write(text);
    else await writeFileAtomic({ path: output, data: text, mode: 0o600 });
  });
}

/** --pkcs11-import: the kubeadm CA keys go into the token; the bundle then holds their URIs, and no key. */
function importKubernetesCAs(supplied: SuppliedSecrets, use: TokenUse, dir: string): void {
  if (!use.importCA) throw new Error('--pkcs11-import: needs the token: give --pkcs11-module, --pkcs11-token and --pkcs11-pin-file (or TRUSTPLANE_PKCS11_MODULE, _TOKEN, _PIN_FILE)');
  if (supplied.k8s) supplied.k8s = use.importCA(supplied.k8s, 'kubernetes', join(dir, 'ca'));
  if (supplied.etcd) supplied.etcd = use.importCA(supplied.etcd, 'etcd', join(dir, 'etcd', 'ca'));
  if (supplied.k8sAggregator) supplied.k8sAggregator = use.importCA(supplied.k8sAggregator, 'aggregator', join(dir, 'front-proxy-ca'));
}
