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

export function setUpNetns(count: number, tag: string): NetnsSet | undefined {
  const id = `${tag}${process.pid % 10000}`;
  const bridge = `b${id}`.slice(0, 15);
  const subnet = `10.213.${process.pid % 250}`;
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
