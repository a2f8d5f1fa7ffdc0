// Validates a bundle collecting every problem, with upstream Talos' messages and order.
import { MultiError } from './config-error.js';
import { certAndKeyProblem, privateKeyProblem } from './pem-check.js';
import type { PemCertAndKey, SecretsBundle, SecretsBundleDraft } from './secrets-bundle.js';

export function secretsBundleProblems(draft: SecretsBundleDraft): string[] {
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
    if (!box && !cbc) errors.push('one of [secrets.secretboxencryptionsecret, secrets.aescbcencryptionsecret] is required');
    if (box && cbc) errors.push('only one of [secrets.secretboxencryptionsecret, secrets.aescbcencryptionsecret] is allowed');
  }

  if (!draft.trustdInfo) errors.push('trustdinfo is required');
  else if (!draft.trustdInfo.token) errors.push('trustdinfo.token is required');

  errors.push(...certsProblems(draft.certs));
  return errors;
}

function certsProblems(certs: SecretsBundleDraft['certs']): string[] {
  if (!certs) return ['certs is required'];
  const errors: string[] = [];
  const checkPair = (name: string, pair: PemCertAndKey | undefined) => {
    if (!pair) return errors.push(`certs.${name} is required`);
    const problem = certAndKeyProblem(pair);
    if (problem) errors.push(`certs.${name} is invalid: ${problem}`);
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
export function validateSecretsBundle(draft: SecretsBundleDraft): SecretsBundle {
  const errors = secretsBundleProblems(draft);
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
