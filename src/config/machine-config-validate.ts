// Validates the PKI fields of a machine config, collecting every problem as `<field>: <problem>`.
import { dnsDomainProblem, serviceSubnetsProblems } from './cluster-network.js';
import { ConfigError, MultiError } from './config-error.js';
import type { MachineConfig } from './machine-config.js';
import { MACHINE_TYPES } from './machine-config.js';
import { caCertificateProblem, certAndKeyProblem, certificateProblem, privateKeyProblem } from './pem-check.js';
import { tokenProblem } from './random-token.js';
import { hostnameProblem, subjectAltNameProblem } from './subject-alt-name.js';

export interface ValidateOptions {
  /**
   * The time the CAs must be valid at. Every entry point (gen config, apply-config, patch, serve --config, the API)
   * passes its clock; the store's own re-validation of what it already holds leaves it out, so a CA that runs out
   * while stored does not lock the node out of its own writes (rotation replaces it).
   */
  now?: Date;
}

type Check = (config: MachineConfig, errors: string[], options: ValidateOptions) => void;

/** Runs `read`, turning a ConfigError (bad type, bad base64) into a collected message. */
function guard<T>(errors: string[], read: () => T): T | undefined {
  try {
    return read();
  } catch (err) {
    if (err instanceof ConfigError) {
      errors.push(err.message);
      return undefined;
    }
    throw err;
  }
}

const checkVersionAndType: Check = (config, errors) => {
  const type = guard(errors, () => config.type);
  if (type === undefined) return;
  if (!type) errors.push(`machine.type: is required; use one of ${MACHINE_TYPES.join(', ')}`);
  else if (!(MACHINE_TYPES as readonly string[]).includes(type))
    errors.push(`machine.type: expected one of ${MACHINE_TYPES.join(', ')}, got ${JSON.stringify(type)}`);
};

function checkToken(errors: string[], field: string, value: string | undefined): void {
  const problem = value === undefined ? undefined : tokenProblem(value);
  if (problem) errors.push(`${field}: ${problem}`);
}

const checkTokens: Check = (config, errors) => {
  checkToken(errors, 'machine.token', guard(errors, () => config.token));
  checkToken(errors, 'cluster.token', guard(errors, () => config.bootstrapToken));
  // free-form, but strings: pki() reads them, and a list or map there must be named here, not fail it later
  guard(errors, () => config.clusterId);
  guard(errors, () => config.clusterSecret);
  guard(errors, () => config.secretboxEncryptionSecret);
};

/** machine.type for the checks that depend on it; one that is not a string is checkVersionAndType's to report. */
function machineType(config: MachineConfig): string | undefined {
  return guard([], () => config.type);
}

/** A CA's `{crt, key}` section; the key may be empty only where `keyRequired` is false (workers). */
function checkCertAndKey(config: MachineConfig, errors: string[], path: string[], required: boolean, keyRequired: boolean, now: Date | undefined): void {
  const field = path.join('.');
  if (!config.has(path)) {
    if (required) errors.push(`${field}: is required`);
    return;
  }
  const crt = guard(errors, () => config.pem([...path, 'crt']));
  if (crt !== undefined) {
    const problem = crt ? caCertificateProblem(crt, now) : 'is required';
    if (problem) errors.push(`${field}.crt: ${problem}`);
  }
  const key = guard(errors, () => config.pem([...path, 'key']));
  if (key === undefined) return;
  if (!key) {
    if (keyRequired) errors.push(`${field}.key: is required on a ${machineType(config) || 'control plane'} machine`);
    return;
  }
  const problem = privateKeyProblem(key);
  if (problem) errors.push(`${field}.key: ${problem}`);
  else if (crt && !certificateProblem(crt) && certAndKeyProblem({ crt, key }))
    errors.push(`${field}.key: does not match the certificate in ${field}.crt; put the CA's own key here`);
}

function checkPemList(config: MachineConfig, errors: string[], path: string[]): void {
  const pems = guard(errors, () => config.pemList(path));
  pems?.forEach((pem, i) => {
    // no time check: an old CA stays accepted after rotation until it is removed, expired or not
    const problem = pem ? caCertificateProblem(pem) : 'is required';
    if (problem) errors.push(`${path.join('.')}[${i}].crt: ${problem}`);
  });
}

function checkSANs(errors: string[], field: string, sans: string[] | undefined): void {
  sans?.forEach((san, i) => {
    const problem = subjectAltNameProblem(san);
    if (problem) errors.push(`${field}[${i}]: ${problem}`);
  });
}

const checkCAs: Check = (config, errors, { now }) => {
  // a type that is missing or wrong is reported by checkVersionAndType; the CAs are checked as a control plane's
  const controlPlane = machineType(config) !== 'worker';
  checkCertAndKey(config, errors, ['machine', 'ca'], true, controlPlane, now);
  checkPemList(config, errors, ['machine', 'acceptedCAs']);
  checkCertAndKey(config, errors, ['cluster', 'ca'], true, controlPlane, now);
  checkPemList(config, errors, ['cluster', 'acceptedCAs']);
  checkCertAndKey(config, errors, ['cluster', 'aggregatorCA'], false, controlPlane, now);
  checkCertAndKey(config, errors, ['cluster', 'etcd', 'ca'], controlPlane, controlPlane, now);
  if (config.has(['cluster', 'serviceAccount'])) {
    const key = guard(errors, () => config.pem(['cluster', 'serviceAccount', 'key']));
    const problem = key === undefined ? undefined : key ? privateKeyProblem(key) : controlPlane ? 'is required' : undefined;
    if (problem) errors.push(`cluster.serviceAccount.key: ${problem}`);
  }
};

const checkNames: Check = (config, errors) => {
  checkSANs(errors, 'machine.certSANs', guard(errors, () => config.certSANs));
  checkSANs(errors, 'cluster.apiServer.certSANs', guard(errors, () => config.apiServerCertSANs));
  const hostname = guard(errors, () => config.string(['machine', 'network', 'hostname']));
  const hostProblem = hostname ? hostnameProblem(hostname) : undefined;
  if (hostProblem) errors.push(`machine.network.hostname: ${hostProblem}`);
  const name = guard(errors, () => config.clusterName);
  if (name === '') errors.push('cluster.clusterName: is required');
  const endpoint = guard(errors, () => config.controlPlaneEndpoint);
  if (endpoint !== undefined) {
    const problem = endpointProblem(endpoint);
    if (problem) errors.push(`cluster.controlPlane.endpoint: ${problem}`);
  }
};

export function endpointProblem(endpoint: string): string | undefined {
  if (!endpoint) return 'is required (e.g. https://10.0.0.1:6443)';
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint)) return `expected an https:// URL, got ${JSON.stringify(endpoint)} (did you mean "https://${endpoint}"?)`;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return `expected a URL such as https://10.0.0.1:6443, got ${JSON.stringify(endpoint)}`;
  }
  if (url.protocol !== 'https:') return `expected an https:// URL, got ${JSON.stringify(endpoint)}`;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return subjectAltNameProblem(host) ? `the host ${JSON.stringify(host)} is not an IP address or DNS name` : undefined;
}

/** The fields the kube-apiserver certificate and the local kubeconfigs are built from. */
const checkClusterNetwork: Check = (config, errors) => {
  const domain = guard(errors, () => config.dnsDomain);
  const domainProblem = domain === undefined ? undefined : dnsDomainProblem(domain);
  if (domainProblem) errors.push(`cluster.network.dnsDomain: ${domainProblem}`);
  const subnets = guard(errors, () => config.serviceSubnets);
  for (const p of subnets ? serviceSubnetsProblems(subnets) : []) errors.push(`cluster.network.serviceSubnets${p}`);
  guard(errors, () => config.localAPIServerPort);
};

const CHECKS: readonly Check[] = [checkVersionAndType, checkTokens, checkCAs, checkNames, checkClusterNetwork];

export function machineConfigProblems(config: MachineConfig, options: ValidateOptions = {}): string[] {
  const errors: string[] = [];
  for (const check of CHECKS) check(config, errors, options);
  return errors;
}

export function validateMachineConfig(config: MachineConfig, options: ValidateOptions = {}): void {
  const errors = machineConfigProblems(config, options);
  if (errors.length > 0) throw new MultiError(errors);
}
