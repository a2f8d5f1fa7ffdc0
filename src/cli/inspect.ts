// `trustctl inspect dependencies`: the controller/resource graph the node runs, from declarations alone (COSI's
// `talosctl inspect dependencies`), as text or Graphviz DOT. The controllers and the graph code load only when the
// command runs, so other commands do not pay for them at start-up.
import { Option } from 'commander';
import type { Command } from 'commander';
import type { Controller } from '../runtime/controller.js';

/** `controllers` defaults to every controller the node runs (src/controllers). */
export function registerInspectCommands(program: Command, controllers?: readonly Controller[]): void {
  const inspect = program.command('inspect').description('Inspect how the node is put together');
  inspect
    .command('dependencies')
    .description('Print which controllers read and write which resources, in dependency order (no store needed)')
    .addOption(new Option('-o, --output <format>', 'output format (dot: pipe into `dot -Tsvg`)').choices(['text', 'dot']).default('text'))
    .action(async function (this: Command, options: { output: 'text' | 'dot' }) {
      const { dependencyGraph, renderDependencyDot, renderDependencyText } = await import('../runtime/dependency-graph.js');
      const graph = dependencyGraph(controllers ?? (await import('../controllers/index.js')).allControllers);
      const text = options.output === 'dot' ? renderDependencyDot(graph) : renderDependencyText(graph);
      const write = this.configureOutput().writeOut ?? ((s: string) => process.stdout.write(s));
      write(text);
    });
}
