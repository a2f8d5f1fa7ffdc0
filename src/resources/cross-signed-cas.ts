// CrossSignedCAs (config/os): the new Talos API CA cross-signed by the old one, sent by apid after its server
// certificate while a rotation overlaps the two CAs. A client that still trusts only the old CA (an old talosconfig)
// verifies a new-CA server certificate through it, so it keeps working until the old CA is dropped. Written on every
// node by the rotation driver.
import { defineCAList } from './ca-list.js';
import type { CAListSpec } from './ca-list.js';

export const CROSS_SIGNED_CAS_ID = 'os';

export type CrossSignedCAsSpec = CAListSpec;

export const CrossSignedCAs = defineCAList('CrossSignedCAs', ['crosssignedca', 'crosssignedcas', 'xca']);
