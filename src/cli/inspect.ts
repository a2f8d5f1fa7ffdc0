// `trustctl inspect dependencies`: the controller/resource graph the node runs, from declarations alone (COSI's
// `talosctl inspect dependencies`), as text or Graphviz DOT.
import { Option } from 'commander';
import type { Command } from 'commander';
import { allControllers } from '../controllers/index.js';
import type { Controller } from '../runtime/controller.js';
import { dependencyGraph, renderDependencyDot, renderDependencyText } from '../runtime/dependency-graph.js';

export function registerInspectCommands(program: Command, controllers: readonly Controller[] = allControllers): void {
  const inspect = program.command('inspect').description('Inspect how the node is put together');
  inspect
    .command('dependencies')
    .description('Print which controllers read and write which resources, in dependency order (no store needed)')
    .addOption(new Option('-o, --output <format>', 'output format (dot: pipe into `dot -Tsvg`)').choices(['text', 'dot']).default('text'))
    .action(function (this: Command, options: { output: 'text' | 'dot' }) {
      const graph = dependencyGraph(controllers);
      const text = options.output === 'dot' ? renderDependencyDot(graph) : renderDependencyText(graph);
      const write = this.configureOutput().writeOut ?? ((s: string) => process.stdout.write(s));
      write(text);
    });
}
