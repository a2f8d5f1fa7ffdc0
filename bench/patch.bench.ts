// Machine config patching, each figure beside a baseline measured in the same run (interleaved):
// 1. applying two strategic merge patches (certSANs, a network interface) to a real control-plane config, validation
//    included, beside what apply-config costs for the same config anyway (parse + render + validate);
// 2. the same with an RFC 6902 patch on the single-document form;
// 3. the certificate impact preview of the change, beside the same baseline.
// Target: patching costs within 3x of the baseline (both are dominated by YAML parsing and certificate checks).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { applyPatches, machineConfigProblems, parseMachineConfig, parsePatch } from '../src/config/index.js';
import { certificateImpact } from '../src/controllers/impact/index.js';

const ROUNDS = 300;
const fixture = readFileSync(resolve(process.cwd(), '../shared/fixtures/talos/machineconfig/base-controlplane.yaml'), 'utf8');
const single = fixture.split('\n---\n')[0];
const strategic = [
  parsePatch('machine:\n  certSANs: [10.0.0.5, api.example.com]\n', 'sans.yaml'),
  parsePatch('machine:\n  network:\n    interfaces:\n      - interface: eth0\n        dhcp: true\n', 'net.yaml'),
];
const json = [parsePatch('[{"op": "add", "path": "/machine/certSANs/-", "value": "10.0.0.5"}, {"op": "replace", "path": "/machine/install/wipe", "value": true}]', 'ops.json')];
const node = { addresses: ['10.5.0.2'], hostname: 'cp-1' };

function baseline(text: string): void {
  const config = parseMachineConfig(text);
  parseMachineConfig(config.toYaml());
  if (machineConfigProblems(config).length) throw new Error('baseline config is invalid');
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function measure(label: string, text: string, work: () => void): void {
  const base: number[] = [];
  const mine: number[] = [];
  for (let i = 0; i < 20; i++) {
    baseline(text);
    work();
  }
  for (let i = 0; i < ROUNDS; i++) {
    let t = performance.now();
    baseline(text);
    base.push(performance.now() - t);
    t = performance.now();
    work();
    mine.push(performance.now() - t);
  }
  const [b, m] = [median(base), median(mine)];
  console.log(`${label.padEnd(48)} ${m.toFixed(3)} ms   baseline (parse + render + validate) ${b.toFixed(3)} ms   ratio ${(m / b).toFixed(2)}x`);
}

measure('strategic merge x2 (multi-document config)', fixture, () => {
  applyPatches(parseMachineConfig(fixture), strategic);
});
measure('RFC 6902, 2 ops (single-document config)', single, () => {
  applyPatches(parseMachineConfig(single), json);
});
const before = parseMachineConfig(fixture);
const after = applyPatches(before, strategic).config;
measure('certificate impact preview', fixture, () => {
  certificateImpact(before, after, node);
});
