// Every call apid answers, with the permission each needs (api-paths.ts names the paths its client shares).
import type { CaKeys } from '../../config/ca-keys.js';
import type { AuditSink } from '../../controllers/audit/index.js';
import { CROSS_SIGNED_CAS_ID, CrossSignedCAs } from '../../resources/cross-signed-cas.js';
import { EXTRA_ACCEPTED_CA_IDS, ExtraAcceptedCAs } from '../../resources/extra-accepted-cas.js';
import type { Clock } from '../../runtime/clock.js';
import type { ResourceRegistry } from '../../runtime/resource.js';
import type { State } from '../../runtime/state.js';
import type { RevocationListener } from '../revocation/index.js';
import type { ServiceLogs } from '../service-logs.js';
import { API_VERSION, TRUSTPLANE_VERSION, paths } from './api-paths.js';
import type { VersionInfo } from './api-paths.js';
import { auditVerifyCall } from './audit-verify-call.js';
import type { Permission } from './authorization.js';
import { caListCall } from './ca-list-call.js';
import { checkCall } from './check-call.js';
import { clientConfigCall } from './client-config-call.js';
import { joinTokenCalls } from './join-token-calls.js';
import { logsCall } from './logs-call.js';
import { machineConfigCalls } from './machine-config-calls.js';
import { readPermissions, resourceCalls } from './resource-calls.js';
import { revocationCalls } from './revocation-calls.js';
import { rotationCall } from './rotation-call.js';
import { Router, requirePermission } from './router.js';
import { snapshotCall } from './store-snapshot.js';
import { watchCall } from './watch-stream.js';

export interface RouteExtras {
  audit: AuditSink;
  /** Where the OS CA signs (config new), CA rotations cross-sign and the look ahead of check runs. */
  caKeys: CaKeys;
  serviceLogs: ServiceLogs | undefined;
  onRevocation: RevocationListener | undefined;
}

export function apiRoutes(state: State, registry: ResourceRegistry, clock: Clock, extras: RouteExtras): Router {
  const { audit, caKeys } = extras;
  const revocations = revocationCalls(state, clock, audit, extras.onRevocation);
  const resources = resourceCalls(state, registry);
  const tokens = joinTokenCalls(state, clock, audit);
  const watch = watchCall(state, registry);
  const machineConfig = machineConfigCalls(state, clock, audit);
  // An unknown type needs read only: the handler then says it is not supported (404), as it does to a local caller.
  const reading = (params: Record<string, string>): Permission[] => (registry.has(params.type) ? readPermissions(registry.resolve(params.type)) : ['read']);
  return new Router()
    .add('GET', paths.version, 'read', async (ctx): Promise<VersionInfo> => {
      requirePermission(ctx, 'read');
      return { version: TRUSTPLANE_VERSION, apiVersion: API_VERSION };
    })
    .add('GET', '/v1/resources/:type', reading, resources.list)
    .add('GET', '/v1/resources/:type/:id', reading, resources.get)
    .add('GET', '/v1/watch/:type', reading, watch, { watch: true })
    .add('GET', '/v1/watch/:type/:id', reading, watch, { watch: true })
    .add('PUT', paths.machineConfig, 'admin', machineConfig.apply)
    .add('PATCH', paths.machineConfig, 'admin', machineConfig.patch)
    .add('POST', paths.talosconfig, 'admin', clientConfigCall(state, clock, caKeys, audit))
    .add('GET', paths.auditVerify, 'audit', auditVerifyCall(state))
    .add('GET', paths.etcdSnapshot, 'etcdBackup', snapshotCall(state))
    .add('POST', paths.check, 'admin', checkCall(state, registry, clock, caKeys))
    .add('GET', '/v1/logs/:service', 'logs', logsCall(extras.serviceLogs), { watch: true })
    .add('POST', paths.joinTokens, 'admin', tokens.create)
    .add('GET', paths.joinTokens, 'admin', tokens.list)
    .add('DELETE', '/v1/jointokens/:id', 'admin', tokens.revoke)
    .add('PUT', paths.tokenPolicy, 'admin', tokens.policy)
    .add('POST', paths.caRotations, 'admin', rotationCall(state, clock, caKeys, audit))
    .add('POST', paths.revocations, 'admin', revocations.revoke)
    .add('POST', paths.liftRevocation, 'admin', revocations.lift)
    .add('PUT', '/v1/extraacceptedcas/:ca', 'admin', caListCall(state, { definition: ExtraAcceptedCAs, ids: EXTRA_ACCEPTED_CA_IDS, unknown: (id) => `no extra accepted CAs for "${id}": only ${EXTRA_ACCEPTED_CA_IDS.join(' and ')} (the Talos API and Kubernetes CAs have machine.acceptedCAs and cluster.acceptedCAs)` }))
    .add('PUT', '/v1/crosssignedcas/:ca', 'admin', caListCall(state, { definition: CrossSignedCAs, ids: [CROSS_SIGNED_CAS_ID], unknown: (id) => `no cross-signed CAs for "${id}": only the Talos API CA (os) is served by apid` }));
}
