// Network namespaces for tests whose subject checks addresses for real (etcd compares a peer's address with its
// certificate's SANs): one namespace per member, each with its own address on a bridge in the root namespace, so the
// test process reaches every member and the members reach each other. Needs root (CI runs as root); where `ip netns`
// is not permitted, `setUpNetns` answers undefined and the caller falls back to distinct 127.0.0.x addresses.
import { spawnSync } from 'node:child_process';

export interface NetnsSet {
  /** The address of member i (0-based). */
  addresses: string[];
  /** The command prefix that runs a program inside member i's namespace. */
  exec(i: number): string[];
  tearDown(): void;
}

function ip(args: string[]): { ok: boolean; err: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  return { ok: r.status === 0, err: r.stderr ?? '' };
}

/** Whether process `pid` still runs (signal 0 only checks). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the namespaces, veths and bridge a killed test process left behind (their names carry its pid): a leftover
 * bridge keeps its subnet routed, and a later run that picks the same subnet cannot reach its own members.
 */
function removeLeftovers(tag: string): void {
  const listed = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  const dead = new Set<string>();
  for (const line of listed.split('\n')) {
    const m = new RegExp(`^(${tag}(\\d+))n\\d+\\b`).exec(line.trim());
    if (m && !alive(Number(m[2]))) dead.add(m[1]);
  }
  for (const id of dead) {
    for (const line of listed.split('\n')) {
      const name = line.trim().split(' ')[0];
      if (name?.startsWith(`${id}n`)) ip(['netns', 'del', name]);
    }
    ip(['link', 'del', `b${id}`.slice(0, 15)]);
  }
}

/** A /24 under 10.213 that no interface of this host has an address in, starting from one derived from the pid. */
function freeSubnet(): string | undefined {
  const used = spawnSync('ip', ['-o', '-4', 'addr'], { encoding: 'utf8' }).stdout ?? '';
  for (let k = 0; k < 250; k++) {
    const subnet = `10.213.${(process.pid + k) % 250}`;
    if (!used.includes(` ${subnet}.`)) return subnet;
  }
  return undefined;
}

export function setUpNetns(count: number, tag: string): NetnsSet | undefined {
  // The whole pid: removeLeftovers reads it back to tell a dead run's names from a live one's.
  const id = `${tag}${process.pid}`;
  const bridge = `b${id}`.slice(0, 15);
  removeLeftovers(tag);
  const subnet = freeSubnet();
  if (!subnet) return undefined;
  const names = Array.from({ length: count }, (_, i) => `${id}n${i}`);
  const tearDown = () => {
    for (const n of names) ip(['netns', 'del', n]);
    for (let i = 0; i < count; i++) ip(['link', 'del', `v${id}${i}`.slice(0, 15)]);
    ip(['link', 'del', bridge]);
  };
  const steps: string[][] = [
    ['link', 'add', bridge, 'type', 'bridge'],
    ['addr', 'add', `${subnet}.254/24`, 'dev', bridge],
    ['link', 'set', bridge, 'up'],
  ];
  names.forEach((n, i) => {
    const veth = `v${id}${i}`.slice(0, 15);
    steps.push(
      ['netns', 'add', n],
      ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n],
      ['link', 'set', veth, 'master', bridge],
      ['link', 'set', veth, 'up'],
      ['-n', n, 'addr', 'add', `${subnet}.${i + 1}/24`, 'dev', 'eth0'],
      ['-n', n, 'link', 'set', 'eth0', 'up'],
      ['-n', n, 'link', 'set', 'lo', 'up'],
    );
  });
  for (const step of steps) {
    const r = ip(step);
    if (!r.ok) {
      tearDown();
      return undefined;
    }
  }
  return { addresses: names.map((_, i) => `${subnet}.${i + 1}`), exec: (i) => ['ip', 'netns', 'exec', names[i]], tearDown };
}
