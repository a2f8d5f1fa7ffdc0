// Reads and writes the secrets bundle: Talos' YAML (lowercase keys, 4-space indent, base64 of PEM) and the
// PascalCase JSON form other tools exchange (`Certs.OS.Crt`).
import { Document, isMap, isNode, parseDocument } from 'yaml';
import { ConfigError } from './config-error.js';
import { decodeKeyField, decodePemField, encodeKeyField, encodePemField } from './pem-field.js';
import type { PemCertAndKey, PemKey, SecretsBundle, SecretsBundleDraft } from './secrets-bundle.js';
import { lowerCaseKeys, plainData, readMap, readString } from './yaml-read.js';
import type { PlainMap } from './yaml-read.js';

/** Parses either form; the result may be incomplete: pass it to validateSecretsBundle. */
export function parseSecretsBundle(text: string, source = 'secrets bundle'): SecretsBundleDraft {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) return draftFromTree(parseJson(trimmed, source), undefined, source);
  // failsafe: every scalar stays a string, so a token such as 123456.7890123456789012 is not read as a number
  const doc = parseDocument(text, { schema: 'failsafe', prettyErrors: false });
  if (doc.errors.length > 0) throw new ConfigError(source, `invalid YAML: ${doc.errors[0].message}`);
  const comment = leadingComment(doc);
  return draftFromTree(plainData(doc, source), comment, source);
}

/** yaml attaches a header comment to the document, the root map or its first key, depending on spacing. */
function leadingComment(doc: Document): string | undefined {
  const root = doc.contents;
  const firstKey = isMap(root) ? root.items[0]?.key : undefined;
  return doc.commentBefore ?? root?.commentBefore ?? (isNode(firstKey) ? firstKey.commentBefore : undefined) ?? undefined;
}

function parseJson(text: string, source: string): unknown {
  try {
    return lowerCaseKeys(JSON.parse(text) as unknown);
  } catch (err) {
    throw new ConfigError(source, `invalid JSON: ${(err as Error).message}`);
  }
}

function draftFromTree(tree: unknown, comment: string | undefined, source: string): SecretsBundleDraft {
  const root = readMap(tree, source) ?? {};
  const draft: SecretsBundleDraft = {};
  if (comment) draft.comment = comment;

  const cluster = readMap(root.cluster, 'cluster');
  if (cluster) draft.cluster = { id: readString(cluster.id, 'cluster.id'), secret: readString(cluster.secret, 'cluster.secret') };

  const secrets = readMap(root.secrets, 'secrets');
  if (secrets) {
    draft.secrets = {
      bootstrapToken: readString(secrets.bootstraptoken, 'secrets.bootstraptoken'),
      secretboxEncryptionSecret: readString(secrets.secretboxencryptionsecret, 'secrets.secretboxencryptionsecret'),
      aescbcEncryptionSecret: readString(secrets.aescbcencryptionsecret, 'secrets.aescbcencryptionsecret'),
    };
  }

  const trustd = readMap(root.trustdinfo, 'trustdinfo');
  if (trustd) draft.trustdInfo = { token: readString(trustd.token, 'trustdinfo.token') };

  const certs = readMap(root.certs, 'certs');
  if (certs) {
    draft.certs = {};
    const etcd = readPair(certs, 'etcd');
    const k8s = readPair(certs, 'k8s');
    const aggregator = readPair(certs, 'k8saggregator');
    const sa = readKey(certs, 'k8sserviceaccount');
    const os = readPair(certs, 'os');
    if (etcd) draft.certs.etcd = etcd;
    if (k8s) draft.certs.k8s = k8s;
    if (aggregator) draft.certs.k8sAggregator = aggregator;
    if (sa) draft.certs.k8sServiceAccount = sa;
    if (os) draft.certs.os = os;
  }
  return draft;
}

function readPair(certs: PlainMap, name: string): PemCertAndKey | undefined {
  const section = readMap(certs[name], `certs.${name}`);
  if (!section) return undefined;
  return {
    crt: decodePemField(`certs.${name}.crt`, readString(section.crt, `certs.${name}.crt`)),
    key: decodeKeyField(`certs.${name}.key`, readString(section.key, `certs.${name}.key`)),
  };
}

function readKey(certs: PlainMap, name: string): PemKey | undefined {
  const section = readMap(certs[name], `certs.${name}`);
  if (!section) return undefined;
  return { key: decodePemField(`certs.${name}.key`, readString(section.key, `certs.${name}.key`)) };
}

/** Talos' YAML: field order and names as `talosctl gen secrets` writes them. */
export function formatSecretsBundleYaml(bundle: SecretsBundle): string {
  const pair = (p: PemCertAndKey) => ({ crt: encodePemField(p.crt), key: encodeKeyField(p.key) });
  const secrets: Record<string, string> = { bootstraptoken: bundle.secrets.bootstrapToken };
  if (bundle.secrets.aescbcEncryptionSecret) secrets.aescbcencryptionsecret = bundle.secrets.aescbcEncryptionSecret;
  if (bundle.secrets.secretboxEncryptionSecret) secrets.secretboxencryptionsecret = bundle.secrets.secretboxEncryptionSecret;
  const doc = new Document({
    cluster: { id: bundle.cluster.id, secret: bundle.cluster.secret },
    secrets,
    trustdinfo: { token: bundle.trustdInfo.token },
    certs: {
      etcd: pair(bundle.certs.etcd),
      k8s: pair(bundle.certs.k8s),
      k8saggregator: pair(bundle.certs.k8sAggregator),
      k8sserviceaccount: { key: encodePemField(bundle.certs.k8sServiceAccount.key) },
      os: pair(bundle.certs.os),
    },
  });
  if (bundle.comment && doc.contents) (doc.contents as { commentBefore?: string }).commentBefore = bundle.comment;
  return doc.toString({ indent: 4, lineWidth: 0 });
}

/** The JSON form (Go's encoding of the Bundle struct: PascalCase names, base64 PEM). */
export function formatSecretsBundleJson(bundle: SecretsBundle): string {
  const pair = (p: PemCertAndKey) => ({ Crt: encodePemField(p.crt), Key: encodeKeyField(p.key) });
  const secrets: Record<string, string> = { BootstrapToken: bundle.secrets.bootstrapToken };
  if (bundle.secrets.aescbcEncryptionSecret) secrets.AESCBCEncryptionSecret = bundle.secrets.aescbcEncryptionSecret;
  if (bundle.secrets.secretboxEncryptionSecret) secrets.SecretboxEncryptionSecret = bundle.secrets.secretboxEncryptionSecret;
  return JSON.stringify({
    Cluster: { Id: bundle.cluster.id, Secret: bundle.cluster.secret },
    Secrets: secrets,
    TrustdInfo: { Token: bundle.trustdInfo.token },
    Certs: {
      Etcd: pair(bundle.certs.etcd),
      K8s: pair(bundle.certs.k8s),
      K8sAggregator: pair(bundle.certs.k8sAggregator),
      K8sServiceAccount: { Key: encodePemField(bundle.certs.k8sServiceAccount.key) },
      OS: pair(bundle.certs.os),
    },
  });
}
