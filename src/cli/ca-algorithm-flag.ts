// The --ca-algorithm flag of the commands that may make a new OS (Talos API) CA: `gen secrets` and `gen config`.
import { Option } from 'commander';

export type CaAlgorithm = 'ecdsa' | 'ed25519' | 'rsa';

export function caAlgorithmOption(): Option {
  return new Option('--ca-algorithm <alg>', 'key algorithm of a newly generated OS (Talos API) CA').choices(['ecdsa', 'ed25519', 'rsa']).default('ecdsa');
}
