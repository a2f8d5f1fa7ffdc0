// Validates a bundle collecting every problem, with upstream Talos' messages and order.
import { MultiError } from './config-error.js';
import { caPairProblem, privateKeyProblem } from './pem-check.js';
import { tokenProblem } from './random-token.js';
import type { PemCertAndKey, SecretsBundle, SecretsBundleDraft } from './secrets-bundle.js';

/** `now`: the time the four CAs must be valid at (see ValidateOptions in machine-config-validate.ts). */
export function secretsBundleProblems(draft: SecretsBundleDraft, now?: Date): string[] {
  const errors: string[] = [];
  if (!draft.cluster) errors.push('cluster is required');
  else {
    if (!draft.cluster.id) errors.push('cluster.id is required');
    if (!draft.cluster.secret) errors.push('cluster.secret is required');
  }

  if (!draft.secrets) errors.push('secrets is required');
  else {
    const { bootstrapToken, secretboxEncryptionSecret: box, aescbcEncryptionSecret: cbc } = draft.secrets;
    if (!bootstrapToken) errors.push('secrets.bootstraptoken is required');
    else if (tokenProblem(bootstrapToken)) errors.push(`secrets.bootstraptoken: ${tokenProblem(bootstrapToken)}`);
    if (!box && !cbc) errors.push('one of [secrets.secretboxencryptionsecret, secrets.aescbcencryptionsecret] is required');
    if (box && cbc) errors.push('only one of [secrets.secretboxencryptionsecret, secrets.aescbcencryptionsecret] is allowed');
  }

  if (!draft.trustdInfo) errors.push('trustdinfo is required');
  else if (!draft.trustdInfo.token) errors.push('trustdinfo.token is required');
  else if (tokenProblem(draft.trustdInfo.token)) errors.push(`trustdinfo.token: ${tokenProblem(draft.trustdInfo.token)}`);

  errors.push(...certsProblems(draft.certs, now));
  return errors;
}

const EMPTY_FIX = {
  key: "put the CA's private key there (base64 of its PEM): a bundle without its CA keys cannot sign",
  crt: 'put the CA certificate there (base64 of its PEM)',
};

function certsProblems(certs: SecretsBundleDraft['certs'], now: Date | undefined): string[] {
  if (!certs) return ['certs is required'];
  const errors: string[] = [];
  const checkPair = (name: string, pair: PemCertAndKey | undefined) => {
    if (!pair) return errors.push(`certs.${name} is required`);
    // upstream's words for an empty half, "failed to parse PEM block", say neither which half nor what to put there
    const problem = caPairProblem(pair, now);
    const empty = problem !== 'failed to parse PEM block' ? undefined : !pair.key ? 'key' : !pair.crt ? 'crt' : undefined;
    if (empty) errors.push(`certs.${name} is invalid: ${problem}: certs.${name}.${empty} is empty; ${EMPTY_FIX[empty]}`);
    else if (problem) errors.push(`certs.${name} is invalid: ${problem}`);
  };
  checkPair('etcd', certs.etcd);
  checkPair('k8s', certs.k8s);
  checkPair('k8saggregator', certs.k8sAggregator);
  checkPair('os', certs.os);
  if (!certs.k8sServiceAccount) errors.push('certs.k8sserviceaccount is required');
  else {
    const problem = privateKeyProblem(certs.k8sServiceAccount.key);
    if (problem) errors.push(`certs.k8sserviceaccount.key is invalid: ${problem}`);
  }
  return errors;
}

/** The draft as a complete bundle, or a MultiError listing everything wrong with it. */
export function validateSecretsBundle(draft: SecretsBundleDraft, now?: Date): SecretsBundle {
  const errors = secretsBundleProblems(draft, now);
  if (errors.length > 0) throw new MultiError(errors);
  const secrets = draft.secrets!;
  const bundle: SecretsBundle = {
    cluster: draft.cluster!,
    secrets: { bootstrapToken: secrets.bootstrapToken },
    trustdInfo: draft.trustdInfo!,
    certs: {
      etcd: draft.certs!.etcd!,
      k8s: draft.certs!.k8s!,
      k8sAggregator: draft.certs!.k8sAggregator!,
      k8sServiceAccount: draft.certs!.k8sServiceAccount!,
      os: draft.certs!.os!,
    },
  };
  if (secrets.secretboxEncryptionSecret) bundle.secrets.secretboxEncryptionSecret = secrets.secretboxEncryptionSecret;
  if (secrets.aescbcEncryptionSecret) bundle.secrets.aescbcEncryptionSecret = secrets.aescbcEncryptionSecret;
  if (draft.comment) bundle.comment = draft.comment;
  return bundle;
}
