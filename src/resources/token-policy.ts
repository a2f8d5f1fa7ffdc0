// TokenPolicies (secrets/trustd): whether trustd still accepts the cluster's static machine.token besides join tokens.
// Absent means accepted, as Talos does, so configs made by Talos keep joining; a cluster that hands out join tokens
// turns the static token off here (`trustctl token static refuse`), once for every control plane sharing the store.
import { z } from 'zod';
import { defineResource } from '../runtime/resource.js';
import { specValidator } from './spec-schema.js';

export const STATIC_TOKEN_MODES = ['accepted', 'refused'] as const;
export type StaticTokenMode = (typeof STATIC_TOKEN_MODES)[number];

const schema = z.object({ staticToken: z.enum(STATIC_TOKEN_MODES), changedBy: z.string() }).strict();
export type TokenPolicySpec = z.infer<typeof schema>;

export const TOKEN_POLICY_ID = 'trustd';

export const TokenPolicies = defineResource<TokenPolicySpec>({
  type: 'TokenPolicies',
  aliases: ['tokenpolicy', 'tokenpolicies'],
  namespace: 'secrets',
  sensitive: false,
  printColumns: [
    { name: 'STATIC TOKEN', value: (r) => r.spec.staticToken },
    { name: 'CHANGED BY', value: (r) => r.spec.changedBy },
  ],
  validate: specValidator('TokenPolicies', schema),
});
