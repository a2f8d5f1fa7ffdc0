// The action of `trustctl gen secrets`, loaded only when that command runs. It imports the few src/config modules it
// needs rather than the index: the index brings machine configs, talosconfigs and patches this command never uses.
import { join } from 'node:path';
import { generateSecretsBundle } from '../config/secrets-bundle-generate.js';
import type { SuppliedSecrets } from '../config/secrets-bundle-generate.js';
import { formatSecretsBundleYaml } from '../config/secrets-bundle-codec.js';
import { readKubernetesPki } from '../config/kubernetes-pki.js';
import { isToken } from '../config/random-token.js';
import { ageSeal } from './age-output.js';
import { inCwd } from './cli-io.js';
import type { CliIo } from './cli-io.js';
import { refuseOverwrite, writeFileAtomic } from './files.js';
import type { GenSecretsOptions } from './gen.js';
import { withTokenUse } from './pkcs11-use.js';
import type { TokenUse } from './pkcs11-use.js';
import { withProgress } from './progress.js';

export async function genSecrets(opts: GenSecretsOptions, io: CliIo): Promise<void> {
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
