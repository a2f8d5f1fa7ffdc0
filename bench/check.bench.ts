// `trustctl check` over ten years of a control plane (target < 10 s), beside the way the ten-year test runs a node:
// its controllers at full fidelity (day-long apid/trustd certificates renewed one by one) on a manual clock stepped
// day by day, measured over one year and multiplied by ten.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DateTime } from 'luxon';
import { generateMachineConfig, generateSecretsBundle } from '../src/config/index.js';
import { MACHINE_CONFIG_ID, MachineConfigs } from '../src/resources/index.js';
import { ManualClock } from '../src/runtime/manual-clock.js';
import { checkStateDir } from '../src/server/check/index.js';
import { openNode } from '../src/server/node.js';

const dir = mkdtempSync(join(tmpdir(), 'tp-bench-check-'));
const now = DateTime.utc();

/** A stopped control-plane node with every certificate issued, in `stateDir`. */
async function controlPlane(stateDir: string): Promise<void> {
  const bundle = await generateSecretsBundle({ now: now.toJSDate() });
  const clock = new ManualClock(now);
  const node = await openNode({ stateDir, clock, addresses: { addresses: ['10.5.0.2'], hostname: 'bench-1' }, logger: () => undefined });
  const config = generateMachineConfig(bundle, { type: 'controlplane', clusterName: 'bench', endpoint: 'https://10.5.0.2:6443' });
  await node.state.create({ metadata: { namespace: 'config', type: MachineConfigs.type, id: MACHINE_CONFIG_ID }, spec: { yaml: config.toYaml() } });
  await node.runtime.start();
  await node.runtime.settled();
  await node.stop();
}

async function dayByDayYear(stateDir: string): Promise<number> {
  const clock = new ManualClock(now);
  const node = await openNode({ stateDir, clock, addresses: { addresses: ['10.5.0.2'], hostname: 'bench-1' }, logger: () => undefined });
  const t0 = performance.now();
  await node.runtime.start();
  for (let day = 1; day <= 365; day++) {
    await clock.set(now.plus({ days: day }));
    await node.runtime.settled();
  }
  const elapsed = performance.now() - t0;
  await node.stop();
  return elapsed;
}

try {
  const stateDir = join(dir, 'node');
  await controlPlane(stateDir);
  const runs: number[] = [];
  let wakeUps = 0;
  let findings = 0;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const report = await checkStateDir(stateDir, { from: now, years: 10 });
    runs.push(performance.now() - t0);
    wakeUps = report.wakeUps;
    findings = report.findings.length;
  }
  const median = [...runs].sort((a, b) => a - b)[1];
  cpSync(stateDir, join(dir, 'baseline'), { recursive: true });
  const year = await dayByDayYear(join(dir, 'baseline'));
  console.log(`check, 10 years of a control plane: median ${(median / 1000).toFixed(2)} s of 3 (${wakeUps} wake-ups, ${findings} findings: the CAs' end) — target < 10 s`);
  console.log(`baseline, controllers stepped day by day at full fidelity: ${(year / 1000).toFixed(2)} s for one year, ~${((year * 10) / 1000).toFixed(0)} s for ten`);
  if (median >= 10_000) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
