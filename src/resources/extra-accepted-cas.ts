// ExtraAcceptedCAs (config/etcd, config/aggregator): CAs a control plane trusts for etcd or the aggregator besides the
// one its machine config names. Talos's config has an accepted list for the Talos API and Kubernetes CAs only, so the
// overlap of a rotation of these two CAs (old and new both trusted) is written here, on every control plane, by the
// rotation driver over apid; the root-secrets controllers add it to their accepted lists. Certificates only: not sensitive.
import { defineCAList } from './ca-list.js';
import type { CAListSpec } from './ca-list.js';

/** The CAs without an accepted list in the machine config; each has one ExtraAcceptedCAs resource (its id). */
export const EXTRA_ACCEPTED_CA_IDS = ['etcd', 'aggregator'] as const;
export type ExtraAcceptedCAId = (typeof EXTRA_ACCEPTED_CA_IDS)[number];

export type ExtraAcceptedCAsSpec = CAListSpec;

export const ExtraAcceptedCAs = defineCAList('ExtraAcceptedCAs', ['extraacceptedca', 'extraacceptedcas', 'eaca']);
