// A separate process that writes to a store, for the crash and cross-process tests. It prints one line per commit
// (`ack <what>`) only after the write returned, so every acknowledged line is a promise the store must keep.
//   node state-writer.js once <path> <id>...   create these widgets, print `ack <id>` each, exit
//   node state-writer.js loop <path>           print `ready`, wait for a line on stdin, then write forever:
//                                              creates, CAS updates of `counter`, 3-op batches
import { once } from 'node:events';
import { openSqliteState } from '../../src/runtime/sqlite/index.js';
import type { WidgetSpec } from './definitions.js';
import { testRegistry } from './definitions.js';

const [mode, path, ...rest] = process.argv.slice(2);
if (mode === 'loop') {
  // Lets the crash test start the next writer (module loading is the slow part) while it checks the last one.
  process.stdout.write('ready\n');
  await once(process.stdin, 'data');
}
const state = await openSqliteState({ path, registry: testRegistry() });
const w = (id: string) => ({ namespace: 'default', type: 'Widgets', id });
const ack = (line: string) => process.stdout.write(`ack ${line}\n`);

if (mode === 'once') {
  for (const id of rest) {
    await state.create({ metadata: w(id), spec: { size: 1 } });
    ack(id);
  }
  await state.close();
} else if (mode === 'loop') {
  // Each round numbers its writes from 1000 x round, so ids never collide with what killed rounds left.
  const start = 1000 * Number(process.env.CRASH_ROUND ?? 0);
  for (let i = start; ; i++) {
    await state.create({ metadata: w(`c-${i}`), spec: { size: i } });
    ack(`create c-${i}`);
    const counter = await state.modify<WidgetSpec>(w('counter'), (cur) => ({ spec: { size: (cur?.spec.size ?? 0) + 1 } }));
    ack(`counter ${counter?.metadata.version}`);
    await state.batch([0, 1, 2].map((j) => ({ op: 'create' as const, resource: { metadata: w(`b-${i}-${j}`), spec: { size: j } } })));
    ack(`batch b-${i}`);
  }
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exitCode = 2;
}
