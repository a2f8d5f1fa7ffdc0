// `trustctl revoke --talosconfig FILE [--context NAME]` names the talosconfig whose certificate to revoke, while the
// same flags before the command (global, like talosctl's) name the talosconfig to connect with. Commander reads the
// global flags wherever they stand, so the two are told apart here by their place around the command word.
import type { Command } from 'commander';

export interface SplitTalosconfigFlags {
  /** Given before `revoke`: how to connect. */
  connect: { talosconfig?: string; context?: string };
  /** Given after `revoke`: what to revoke. */
  revoke: { talosconfig?: string; context?: string };
}

/** Global flags that take a value, so their value is never mistaken for the command word. */
const VALUED = new Set(['--talosconfig', '--context', '-e', '--endpoints', '-n', '--nodes', '--state']);

export function splitTalosconfigFlags(args: readonly string[], command: string): SplitTalosconfigFlags {
  const out: SplitTalosconfigFlags = { connect: {}, revoke: {} };
  let side: 'connect' | 'revoke' = 'connect';
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (side === 'connect' && arg === command) {
      side = 'revoke';
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (!VALUED.has(flag)) continue;
    const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined) continue;
    if (flag === '--talosconfig') out[side].talosconfig = value;
    if (flag === '--context') out[side].context = value;
  }
  return out;
}

/** The arguments the program was parsed from (commander keeps them on the root command, untyped). */
export function rawArgsOf(cmd: Command): string[] {
  let root = cmd;
  while (root.parent) root = root.parent;
  const raw: unknown = Reflect.get(root, 'rawArgs');
  return Array.isArray(raw) ? raw.filter((a): a is string => typeof a === 'string') : [];
}
