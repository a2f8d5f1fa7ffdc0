// Issues etcd's server, peer, admin and apiserver-etcd-client certificates from the etcd CA on control-plane nodes.
// etcd certificates carry the node's own addresses, not machine.certSANs, so a certSANs change leaves them alone.
import { idle, input, exclusive } from '../runtime/controller.js';
import type { Controller } from '../runtime/controller.js';
import { EtcdSecrets } from '../resources/issued-certificates.js';
import { NodeAddresses } from '../resources/node-addresses.js';
import type { NodeAddressesSpec } from '../resources/node-addresses.js';
import { EtcdRootSecrets } from '../resources/root-secrets.js';
import { ETCD_ROOT_ID } from './etcd-root-secrets-controller.js';
import { writeIssuedSet } from './issuing/write-issued-set.js';
import { issuingWith } from './issuing/issuing-options.js';
import type { IssuingOptions } from './issuing/issuing-options.js';
import type { CertificateLifetimes } from './lifetimes.js';
import { NODE_ADDRESSES_ID } from './node-addresses-controller.js';
import { splitSans } from './sans.js';
import type { SplitSans } from './sans.js';
import { certificateRequest } from './issuing/certificate-request.js';
import type { CertificatePlan } from './issuing/certificate-request.js';

export const ETCD_SECRETS_ID = 'etcd';

export function etcdCertificateController(options: IssuingOptions = {}): Controller {
  const { lifetimes, caKeys, audit, leafKeys } = issuingWith(options);
  return {
    name: 'EtcdCertificateController',
    inputs: [input(EtcdRootSecrets, 'secrets', ETCD_ROOT_ID), input(NodeAddresses, 'network', NODE_ADDRESSES_ID)],
    outputs: [exclusive(EtcdSecrets)],

    async reconcile(rt) {
      const root = await rt.get(EtcdRootSecrets, ETCD_ROOT_ID);
      const node = await rt.get(NodeAddresses, NODE_ADDRESSES_ID);
      if (!root) {
        await rt.destroyOthers(EtcdSecrets, []);
        return idle('no etcd CA on this node');
      }
      if (!node) return idle('waiting for node addresses');
      const ca = caKeys.signingCA(root.spec.ca.crt, root.spec.ca.key, 'cluster.etcd.ca');
      const wanted = etcdCertificatePlans(lifetimes, node.spec).map((plan) => ({ ...plan, ca }));
      return writeIssuedSet(rt, EtcdSecrets, ETCD_SECRETS_ID, wanted, { acceptedCAs: root.spec.acceptedCAs, audit, leafKeys });
    },
  };
}

export function etcdCertificatePlans(lifetimes: CertificateLifetimes, node: NodeAddressesSpec): CertificatePlan[] {
  const { hostname, addresses } = node;
  const serverSans = splitSans([hostname, 'localhost', ...addresses, '127.0.0.1', '::1']);
  const peerSans = splitSans([hostname, ...addresses]);
  const req = (profile: string, commonName: string, organizations: string[], sans?: SplitSans) =>
    certificateRequest(profile, commonName, organizations, lifetimes.etcdHours, sans);
  return [
    { name: 'server', request: req('etcd-server', hostname, [], serverSans) },
    { name: 'peer', request: req('etcd-peer', hostname, [], peerSans) },
    { name: 'admin', request: req('etcd-client', 'talos', ['os:etcd-client']) },
    { name: 'apiserver-etcd-client', request: req('apiserver-etcd-client', 'kube-apiserver-etcd-client', []) },
  ].map((w) => ({ ...w, issuer: 'etcd' as const }));
}
