// A Talos machine config (v1alpha1 plus any other documents), read and written through the parsed YAML documents so
// every field we do not model (and every comment) survives a load/save unchanged. Typed accessors cover the PKI fields.
import { Document, isAlias, isMap, isScalar, isSeq, parseAllDocuments } from 'yaml';
import { DEFAULT_DNS_DOMAIN, DEFAULT_LOCAL_API_SERVER_PORT, DEFAULT_SERVICE_SUBNETS, portProblem } from './cluster-network.js';
import { ConfigError } from './config-error.js';
import { decodePemField, encodePemField } from './pem-field.js';
import type { PemCertAndKey } from './secrets-bundle.js';
import { kindOf, plainData } from './yaml-read.js';

export type MachineType = 'init' | 'controlplane' | 'worker';
export const MACHINE_TYPES: readonly MachineType[] = ['init', 'controlplane', 'worker'];

type Path = readonly (string | number)[];

/** Every PKI field of a machine config, decoded: certificates and keys are PEM text. */
export interface MachineConfigPki {
  type: string;
  token: string;
  osCA: PemCertAndKey;
  acceptedCAs: string[];
  certSANs: string[];
  clusterId: string;
  clusterSecret: string;
  clusterName: string;
  controlPlaneEndpoint: string;
  bootstrapToken: string;
  secretboxEncryptionSecret: string;
  kubernetesCA: PemCertAndKey | undefined;
  kubernetesAcceptedCAs: string[];
  aggregatorCA: PemCertAndKey | undefined;
  serviceAccountKey: string | undefined;
  apiServerCertSANs: string[];
  etcdCA: PemCertAndKey | undefined;
}

const YAML_OUT = { indent: 4, lineWidth: 0 } as const;

export class MachineConfig {
  private constructor(private readonly docs: Document[]) {}

  static parse(text: string, source = 'machine config'): MachineConfig {
    const docs = parseAllDocuments(text, { prettyErrors: false });
    if (!Array.isArray(docs)) throw new ConfigError(source, 'the file is empty; expected a v1alpha1 machine config');
    for (const [i, doc] of docs.entries()) {
      if (doc.errors.length > 0) throw new ConfigError(`${source} (document ${i + 1})`, `invalid YAML: ${doc.errors[0].message}`);
      // every alias needs a '*': only a text with one pays for expanding it here, where the file can be named
      if (text.includes('*')) plainData(doc as Document, docs.length > 1 ? `${source} (document ${i + 1})` : source);
    }
    const config = new MachineConfig(docs as Document[]);
    config.v1alpha1(source);
    return config;
  }

  /** Builds a config from plain data: the v1alpha1 document first, then the others. */
  static fromObjects(v1alpha1: object, others: readonly object[] = []): MachineConfig {
    // no anchors/aliases for shared values: Talos never writes them and not every reader follows them
    return new MachineConfig([v1alpha1, ...others].map((o) => new Document(o, { aliasDuplicateObjects: false })));
  }

  clone(): MachineConfig {
    return new MachineConfig(this.docs.map((d) => d.clone()));
  }

  /** `kind` of each document; the v1alpha1 document reads as "v1alpha1". */
  get kinds(): string[] {
    return this.docs.map((d) => (isV1alpha1(d) ? 'v1alpha1' : String(d.get('kind') ?? '(unknown)')));
  }

  /** Plain data of every document, for comparisons. */
  toJS(): unknown[] {
    return this.docs.map((d) => d.toJS() as unknown);
  }

  toYaml(): string {
    return this.docs
      .map((d, i) => {
        const text = d.toString(YAML_OUT);
        return i === 0 || text.startsWith('---') ? text : `---\n${text}`;
      })
      .join('');
  }

  // --- generic access to the v1alpha1 document, with the field path in every error ---

  has(path: Path): boolean {
    return this.v1alpha1().hasIn(path);
  }

  raw(path: Path): unknown {
    const doc = this.v1alpha1();
    let node: unknown = doc.getIn(path, true);
    if (isAlias(node)) node = node.resolve(doc);
    if (node === undefined || node === null) return undefined;
    if (isMap(node) || isSeq(node)) return node.toJS(doc) as unknown;
    return isScalar(node) ? node.value : node;
  }

  string(path: Path): string {
    const value = this.raw(path);
    if (value === undefined || value === null) return '';
    if (typeof value !== 'string') throw new ConfigError(fieldName(path), `expected a string, got ${kindOf(value)}`);
    return value;
  }

  stringList(path: Path): string[] {
    const value = this.raw(path);
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) throw new ConfigError(fieldName(path), `expected a list, got ${kindOf(value)}`);
    return value.map((item: unknown, i) => {
      if (typeof item !== 'string') throw new ConfigError(`${fieldName(path)}[${i}]`, `expected a string, got ${kindOf(item)}`);
      return item;
    });
  }

  set(path: Path, value: unknown): void {
    const doc = this.v1alpha1();
    // Maps and lists go in as YAML nodes, so later reads through the document (getIn) can walk into them.
    doc.setIn(path, value !== null && typeof value === 'object' ? doc.createNode(value) : value);
  }

  delete(path: Path): void {
    this.v1alpha1().deleteIn(path);
  }

  pem(path: Path): string {
    const value = this.string(path);
    return value ? decodePemField(fieldName(path), value) : '';
  }

  certAndKey(path: Path): PemCertAndKey | undefined {
    if (this.raw(path) === undefined) return undefined;
    return { crt: this.pem([...path, 'crt']), key: this.pem([...path, 'key']) };
  }

  /** A list of `{crt}` entries (acceptedCAs), as PEM strings. */
  pemList(path: Path): string[] {
    const value = this.raw(path);
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) throw new ConfigError(fieldName(path), `expected a list of {crt: ...}, got ${kindOf(value)}`);
    return value.map((_, i) => this.pem([...path, i, 'crt']));
  }

  setCertAndKey(path: Path, pair: PemCertAndKey): void {
    this.set(path, { crt: encodePemField(pair.crt), key: encodePemField(pair.key) });
  }

  setPemList(path: Path, pems: readonly string[]): void {
    this.set(path, pems.map((crt) => ({ crt: encodePemField(crt) })));
  }

  // --- the PKI fields ---

  get type(): string {
    return this.string(['machine', 'type']);
  }
  get token(): string {
    return this.string(['machine', 'token']);
  }
  get osCA(): PemCertAndKey {
    return this.certAndKey(['machine', 'ca']) ?? { crt: '', key: '' };
  }
  set osCA(pair: PemCertAndKey) {
    this.setCertAndKey(['machine', 'ca'], pair);
  }
  get acceptedCAs(): string[] {
    return this.pemList(['machine', 'acceptedCAs']);
  }
  set acceptedCAs(pems: string[]) {
    this.setPemList(['machine', 'acceptedCAs'], pems);
  }
  get certSANs(): string[] {
    return this.stringList(['machine', 'certSANs']);
  }
  set certSANs(sans: string[]) {
    this.set(['machine', 'certSANs'], [...sans]);
  }
  get clusterId(): string {
    return this.string(['cluster', 'id']);
  }
  get clusterSecret(): string {
    return this.string(['cluster', 'secret']);
  }
  get clusterName(): string {
    return this.string(['cluster', 'clusterName']);
  }
  get controlPlaneEndpoint(): string {
    return this.string(['cluster', 'controlPlane', 'endpoint']);
  }
  get bootstrapToken(): string {
    return this.string(['cluster', 'token']);
  }
  get secretboxEncryptionSecret(): string {
    return this.string(['cluster', 'secretboxEncryptionSecret']);
  }
  get kubernetesCA(): PemCertAndKey | undefined {
    return this.certAndKey(['cluster', 'ca']);
  }
  set kubernetesCA(pair: PemCertAndKey | undefined) {
    if (pair) this.setCertAndKey(['cluster', 'ca'], pair);
    else this.delete(['cluster', 'ca']);
  }
  get kubernetesAcceptedCAs(): string[] {
    return this.pemList(['cluster', 'acceptedCAs']);
  }
  set kubernetesAcceptedCAs(pems: string[]) {
    this.setPemList(['cluster', 'acceptedCAs'], pems);
  }
  get aggregatorCA(): PemCertAndKey | undefined {
    return this.certAndKey(['cluster', 'aggregatorCA']);
  }
  get serviceAccountKey(): string | undefined {
    return this.raw(['cluster', 'serviceAccount']) === undefined ? undefined : this.pem(['cluster', 'serviceAccount', 'key']);
  }
  get apiServerCertSANs(): string[] {
    return this.stringList(['cluster', 'apiServer', 'certSANs']);
  }
  set apiServerCertSANs(sans: string[]) {
    this.set(['cluster', 'apiServer', 'certSANs'], [...sans]);
  }
  get etcdCA(): PemCertAndKey | undefined {
    return this.certAndKey(['cluster', 'etcd', 'ca']);
  }
  /** The cluster DNS domain of the in-cluster service names; Talos' default when absent. */
  get dnsDomain(): string {
    return this.string(['cluster', 'network', 'dnsDomain']) || DEFAULT_DNS_DOMAIN;
  }
  /** The service subnets (one per family); Talos' default when absent or empty. */
  get serviceSubnets(): string[] {
    const subnets = this.stringList(['cluster', 'network', 'serviceSubnets']);
    return subnets.length ? subnets : [...DEFAULT_SERVICE_SUBNETS];
  }
  /** The port kube-apiserver listens on locally, which controller-manager and scheduler dial. */
  get localAPIServerPort(): number {
    const path = ['cluster', 'controlPlane', 'localAPIServerPort'];
    const value = this.raw(path);
    if (value === undefined) return DEFAULT_LOCAL_API_SERVER_PORT;
    const problem = portProblem(value);
    if (problem || typeof value !== 'number') throw new ConfigError(fieldName(path), problem ?? 'expected a number');
    return value;
  }

  /** All PKI fields at once; throws a ConfigError naming the first malformed field. */
  pki(): MachineConfigPki {
    return {
      type: this.type,
      token: this.token,
      osCA: this.osCA,
      acceptedCAs: this.acceptedCAs,
      certSANs: this.certSANs,
      clusterId: this.clusterId,
      clusterSecret: this.clusterSecret,
      clusterName: this.clusterName,
      controlPlaneEndpoint: this.controlPlaneEndpoint,
      bootstrapToken: this.bootstrapToken,
      secretboxEncryptionSecret: this.secretboxEncryptionSecret,
      kubernetesCA: this.kubernetesCA,
      kubernetesAcceptedCAs: this.kubernetesAcceptedCAs,
      aggregatorCA: this.aggregatorCA,
      serviceAccountKey: this.serviceAccountKey,
      apiServerCertSANs: this.apiServerCertSANs,
      etcdCA: this.etcdCA,
    };
  }

  private v1alpha1(source = 'machine config'): Document {
    const doc = this.docs.find(isV1alpha1);
    if (!doc) throw new ConfigError(source, 'no v1alpha1 document found (expected a document starting with "version: v1alpha1")');
    return doc;
  }
}

export function parseMachineConfig(text: string, source?: string): MachineConfig {
  return MachineConfig.parse(text, source);
}

function isV1alpha1(doc: Document): boolean {
  return isMap(doc.contents) && doc.get('version') === 'v1alpha1' && !doc.has('kind');
}

/** `['machine', 'acceptedCAs', 2, 'crt']` -> `machine.acceptedCAs[2].crt` */
export function fieldName(path: Path): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}
