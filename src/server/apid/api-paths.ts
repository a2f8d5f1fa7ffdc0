// The apid HTTP API (JSON over HTTPS with mutual TLS), shared by the server's routes and the trustctl client.
//
//   GET   /v1/version                      {version, apiVersion}                              read
//   GET   /v1/resources/:type[?namespace=] list: Resource[]                                  read (readSensitive for secrets)
//   GET   /v1/resources/:type/:id          one Resource                                       read (readSensitive for secrets)
//   GET   /v1/watch/:type[/:id][?since=B]  NDJSON WatchLine per line (bootstrap when no since) read (readSensitive for secrets)
//   PUT   /v1/machineconfig                {yaml, dryRun?} -> MachineConfigChange            admin
//   PATCH /v1/machineconfig                {patches: (text | {source, text})[], dryRun?} -> MachineConfigChange admin
//   POST  /v1/talosconfig                  {roles, ttlHours?} -> {ca, crt, key}              admin
//   POST  /v1/carotations                 RotationRequest -> the CARotation created (phase Staged) admin
//   POST  /v1/revocations                 RevokeRequest -> RevokeResult (the Revocations entry recorded)   admin
//   POST  /v1/revocations/lift            RevocationSelector -> {lifted: RevocationSpec[]} (revoke --undo)  admin
//   PUT   /v1/extraacceptedcas/:ca        {crts, reason} -> CAListChange (ca: etcd | aggregator)             admin
//   PUT   /v1/crosssignedcas/:ca          {crts, reason} -> CAListChange (ca: os)                            admin
//   GET   /v1/etcd/snapshot                consistent copy of the node's store file (secrets stay sealed)  etcdBackup
//   POST  /v1/check                        {years?} -> CheckReport (the node's controllers run ahead on a copy) admin
//   GET   /v1/audit/verify                 AuditVerdict: the node's audit chain and head signatures checked   audit
//   (the records themselves: GET /v1/resources/AuditRecords and /v1/watch/AuditRecords, which also need audit)
//   GET   /v1/logs/:service[?tail=N&follow=true] NDJSON LogLine per line (apid, trustd, controller-runtime) logs
//   POST  /v1/jointokens                   JoinTokenRequest -> JoinTokenCreated (the token, shown this once)   admin
//   GET   /v1/jointokens                   JoinTokens resources (hashes only, never a token)                   admin
//   DELETE /v1/jointokens/:id              revokes a join token -> {revoked: id}                              admin
//   PUT   /v1/tokenpolicy                  {staticToken: accepted|refused} -> TokenPolicies resource          admin
//
// Headers: `Trustplane-Node: host[:port]` asks the endpoint to forward the call to that node's apid (with its
// impersonator certificate) when the caller's roles allow the call and the node is one it knows (known-nodes.ts; else
// 400 `unknown node`); `Trustplane-Roles` carries the caller's roles on a forwarded call and is honoured only from an
// os:impersonator client certificate. Errors are `{"error": "..."}` with 4xx/5xx statuses (429: too many watches).
import type { RotatableCA } from '../../resources/ca-rotation.js';
import type { Resource } from '../../runtime/resource.js';
import type { WatchEventType } from '../../runtime/state.js';

export const NODE_HEADER = 'trustplane-node';
export const ROLES_HEADER = 'trustplane-roles';
export const API_VERSION = 'v1';
export const TRUSTPLANE_VERSION = '0.1.0';

export const paths = {
  version: '/v1/version',
  resources: (type: string, id?: string) => `/v1/resources/${encodeURIComponent(type)}${id !== undefined ? `/${encodeURIComponent(id)}` : ''}`,
  watch: (type: string, id?: string) => `/v1/watch/${encodeURIComponent(type)}${id !== undefined ? `/${encodeURIComponent(id)}` : ''}`,
  machineConfig: '/v1/machineconfig',
  talosconfig: '/v1/talosconfig',
  etcdSnapshot: '/v1/etcd/snapshot',
  check: '/v1/check',
  auditVerify: '/v1/audit/verify',
  caRotations: '/v1/carotations',
  revocations: '/v1/revocations',
  liftRevocation: '/v1/revocations/lift',
  extraAcceptedCAs: (ca: string) => `/v1/extraacceptedcas/${encodeURIComponent(ca)}`,
  crossSignedCAs: (ca: string) => `/v1/crosssignedcas/${encodeURIComponent(ca)}`,
  metrics: '/metrics',
  logs: (service: string) => `/v1/logs/${encodeURIComponent(service)}`,
  joinTokens: '/v1/jointokens',
  joinToken: (id: string) => `/v1/jointokens/${encodeURIComponent(id)}`,
  tokenPolicy: '/v1/tokenpolicy',
} as const;

export interface VersionInfo {
  version: string;
  apiVersion: string;
}

/** One line of a watch stream: a store event, or an error that ends the stream (`code` InvalidBookmark: re-list). */
export type WatchLine = { type: WatchEventType; bookmark: number; resource?: Resource } | { type: 'error'; error: string; code?: string };

/** One line of a log stream: a service's log line, or an error that ends the stream. */
export type LogLine = { line: string } | { error: string };

export interface MachineConfigChange {
  changed: boolean;
  /** The MachineConfig version after the call (unchanged on a dry run or when nothing changed). */
  version: number;
  /** On a dry run: the stored YAML and the YAML that would be stored, for the caller's (masked) diff. */
  before?: string;
  after?: string;
  /**
   * On a dry run: the certificate impact lines (`KubernetesSecrets: SAN +10.100.0.1`), computed by the node from its own
   * addresses, as the local `patch --dry-run` prints them; `impactNote` when the node's addresses are not known yet.
   */
  impact?: string[];
  impactNote?: string;
}

/** What a PUT of a CA list did; `version` is absent once the list is empty (the resource is removed). */
export interface CAListChange {
  changed: boolean;
  version?: number;
}

export interface ClientConfigRequest {
  roles: string[];
  ttlHours?: number;
}

export interface ClientConfigResponse {
  ca: string;
  crt: string;
  key: string;
  /** ISO time, set when ttlHours ran past the OS CA's end: the certificate ends with the CA then. */
  clampedTo?: string;
}

/** Starts a CA rotation on the control plane that receives it; the driver there visits the nodes in this order. */
export interface RotationRequest {
  ca: RotatableCA;
  /** The new CA, made by the caller; its key is kept in the sensitive CARotationSecrets, never in CARotations. */
  newCA: { crt: string; key: string };
  /** apid addresses (host:port) the driver reaches each node at: control planes first, then workers. */
  controlPlanes: string[];
  workers?: string[];
  /**
   * etcd rotation only: the client URLs (host[:port], port 2379 by default) of the etcd members the control planes run.
   * Each phase then waits until every member trusts what it asks, which for etcd 3.4 takes a restart of each member.
   */
  etcdEndpoints?: string[];
}

/** POST /v1/check: how many years ahead to look (default 10). */
export interface CheckRequest {
  years: number;
}
