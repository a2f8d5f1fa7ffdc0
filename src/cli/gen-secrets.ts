// The action of `trustctl gen secrets`, loaded only when that command runs. It imports the few src/config modules it
// needs rather than the index: the index brings machine configs, talosconfigs and patches this command never uses.
import { generateSecretsBundle } from '../config/secrets-bundle-generate.js';
import type { SuppliedSecrets } from '../config/secrets-bundle-generate.js';
import type { SecretsBundle } from '../config/secrets-bundle.js';
import type { NewCA, Pkcs11Settings, tokenCaMaker } from '../config/token-cas.js';
import { formatSecretsBundleYaml } from '../config/secrets-bundle-codec.js';
import { readKubernetesPki } from '../config/kubernetes-pki.js';
import { isToken } from '../config/random-token.js';
import { ageSeal } from './age-output.js';
import { refuseOverwrite, writeFileAtomic } from './files.js';
import type { GenSecretsOptions } from './gen.js';
import { pkcs11Settings } from './pkcs11-flags.js';
import { withProgress } from './progress.js';

export async function genSecrets(opts: GenSecretsOptions): Promise<void> {
  const toStdout = opts.output === '-';
  if (!toStdout) refuseOverwrite(opts.output, Boolean(opts.force));
  if (opts.kubernetesBootstrapToken !== undefined && !isToken(opts.kubernetesBootstrapToken))
    throw new Error('--kubernetes-bootstrap-token: expected a token like abcdef.0123456789abcdef');
  const seal = await ageSeal(opts);

  const supplied: SuppliedSecrets = opts.fromKubernetesPki ? await readKubernetesPki(opts.fromKubernetesPki, new Date()) : {};
  if (opts.kubernetesBootstrapToken) supplied.bootstrapToken = opts.kubernetesBootstrapToken;
  const settings = pkcs11Settings(opts);
  const generate = (newCA?: NewCA) =>
    withProgress((step) =>
      generateSecretsBundle({ osCAAlgorithm: opts.caAlgorithm, serviceAccountAlgorithm: opts.serviceAccountAlgorithm, supplied, onStep: step, ...(newCA ? { newCA } : {}) }),
    );
  const write = async (bundle: SecretsBundle) => {
    const text = await seal(formatSecretsBundleYaml(bundle));
    if (toStdout) process.stdout.write(text);
    else await writeFileAtomic({ path: opts.output, data: text, mode: 0o600 });
  };
  if (!settings) return write(await generate());
  await inToken(settings, async (maker) => write(await generate(maker.newCA)));
}

/** Runs `work` with CAs made in the token; if it fails, the keys it made are removed, so nothing is left behind. */
async function inToken(settings: Pkcs11Settings, work: (maker: ReturnType<typeof tokenCaMaker>) => Promise<void>): Promise<void> {
  const { openToken, tokenCaMaker } = await import('../config/token-cas.js');
  const token = openToken(settings);
  const maker = tokenCaMaker(token);
  try {
    await work(maker);
  } catch (err) {
    maker.undo();
    throw err;
  } finally {
    token.close();
  }
}
