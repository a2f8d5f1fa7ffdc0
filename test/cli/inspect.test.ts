import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { Command } from 'commander';
import { registerInspectCommands } from '../../src/cli/inspect.js';
import { allControllers } from '../../src/controllers/index.js';
import { exclusive, input, type Controller } from '../../src/runtime/controller.js';
import { dependencyGraph, renderDependencyText } from '../../src/runtime/dependency-graph.js';
import { Doubles, Sources } from '../runtime/runtime-harness.js';

const controllers: Controller[] = [
  { name: 'Doubler', inputs: [input(Sources)], outputs: [exclusive(Doubles)], reconcile: () => Promise.resolve({}) },
];

async function run(args: string[]): Promise<{ out: string; err: string; error?: Error }> {
  let out = '';
  let err = '';
  const program = new Command('trustctl').exitOverride().configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s) });
  registerInspectCommands(program, controllers);
  try {
    await program.parseAsync(args, { from: 'user' });
    return { out, err };
  } catch (error) {
    return { out, err, error: error as Error };
  }
}

describe('trustctl inspect dependencies', () => {
  it('prints the graph of the given controllers as text by default', async () => {
    const { out, error } = await run(['inspect', 'dependencies']);
    expect(error).to.equal(undefined);
    expect(out).to.equal(
      [
        'Doubler',
        '  <- default/Sources       written by user/API',
        '  -> Doubles (exclusive)   read by nobody',
        '',
        'written outside the controllers: Sources (user/API)',
        '',
      ].join('\n'),
    );
  });

  it('prints Graphviz DOT with -o dot', async () => {
    const { out } = await run(['inspect', 'dependencies', '-o', 'dot']);
    expect(out).to.match(/^digraph dependencies \{\n/);
    expect(out).to.contain('  "resource:Sources" -> "controller:Doubler" [label="default"];\n');
    expect(out).to.match(/\n\}\n$/);
  });

  it('refuses an unknown output format and lists the choices', async () => {
    const { out, err, error } = await run(['inspect', 'dependencies', '-o', 'yaml']);
    expect(error).to.not.equal(undefined);
    expect(out).to.equal('');
    expect(err).to.contain("argument 'yaml' is invalid. Allowed choices are text, dot.");
  });

  it('draws the controllers the node runs, from the installed binary, without a store', () => {
    const result = spawnSync(process.execPath, ['dist/bundle/trustctl.js', 'inspect', 'dependencies'], { encoding: 'utf8' });
    expect(result.stderr).to.equal('');
    expect(result.status).to.equal(0);
    expect(result.stdout).to.equal(renderDependencyText(dependencyGraph(allControllers)));
    expect(allControllers).to.not.be.empty;
    for (const c of allControllers) expect(result.stdout.split('\n')).to.include(c.name);
  });
});
