// Where Talos's strategic merge departs from "maps merge, lists append, scalars overwrite" in the v1alpha1 document.
// Upstream encodes these in Go struct tags and Merge methods; here they are a table keyed by the field's path, with
// list items written as `*` (e.g. `machine.network.interfaces.*.vlans`).
import { isDeepStrictEqual } from 'node:util';
import { isPlainMap } from '../yaml-read.js';

/** Fields tagged `merge:"replace"` upstream: a patch replaces the whole value instead of appending or merging. */
const REPLACED = new Set(['cluster.network.podSubnets', 'cluster.network.serviceSubnets', 'cluster.apiServer.auditPolicy']);

/** Lists whose items are merged with the item of the same identity (upstream's custom Merge methods). */
type SameItem = (left: unknown, right: unknown) => boolean;

const byField =
  (field: string): SameItem =>
  (left, right) =>
    isPlainMap(right) && isPlainMap(left) && right[field] !== undefined && right[field] !== null && right[field] !== '' && left[field] === right[field];

// A device is the one with the same interface name; a device without a name is the one with an equal selector.
const sameDevice: SameItem = (left, right) => {
  if (!isPlainMap(left) || !isPlainMap(right)) return false;
  if (typeof right.interface === 'string' && right.interface !== '') return left.interface === right.interface;
  return isPlainMap(right.deviceSelector) && isPlainMap(left.deviceSelector) && isDeepStrictEqual(left.deviceSelector, right.deviceSelector);
};

const KEYED_LISTS: Record<string, SameItem> = {
  'machine.network.interfaces': sameDevice,
  'machine.network.interfaces.*.vlans': byField('vlanId'),
  'cluster.apiServer.admissionControl': byField('name'),
};

/** Go's url.URL fields merge one by one upstream, so `https://10.0.0.1` over `https://a:6443/` gives `https://10.0.0.1/`. */
const URL_FIELDS = new Set(['cluster.controlPlane.endpoint', 'machine.logging.destinations.*.endpoint']);

/** Upstream trims the leading blank lines of an inline manifest, which YAML could only keep with an indent marker. */
const LEADING_NEWLINES_TRIMMED = new Set(['cluster.inlineManifests.*.contents']);

export interface MergeRules {
  replaces(field: string): boolean;
  sameItem(field: string): SameItem | undefined;
  isUrl(field: string): boolean;
  trimsLeadingNewlines(field: string): boolean;
}

export const V1ALPHA1_RULES: MergeRules = {
  replaces: (field) => REPLACED.has(field),
  sameItem: (field) => (Object.hasOwn(KEYED_LISTS, field) ? KEYED_LISTS[field] : undefined),
  isUrl: (field) => URL_FIELDS.has(field),
  trimsLeadingNewlines: (field) => LEADING_NEWLINES_TRIMMED.has(field),
};

/** Documents other than v1alpha1 (and unstructured sub-trees): the plain rules. */
export const PLAIN_RULES: MergeRules = {
  replaces: () => false,
  sameItem: () => undefined,
  isUrl: () => false,
  trimsLeadingNewlines: () => false,
};
