import { expect } from 'chai';
import { exclusive, input, shared, type Controller } from '../../src/runtime/controller.js';
import { ControllerStatuses } from '../../src/runtime/controller-status.js';
import { dependencyGraph, renderDependencyDot, renderDependencyText } from '../../src/runtime/dependency-graph.js';
import { Doubles, Others, Quads, Sources, Totals } from './runtime-harness.js';

let runs = 0;
function declared(name: string, inputs: Controller['inputs'], outputs: Controller['outputs']): Controller {
  return {
    name,
    inputs,
    outputs,
    reconcile: () => {
      runs++;
      return Promise.resolve({});
    },
  };
}

// Declared out of order on purpose: the graph orders them.
const testControllers: Controller[] = [
  declared('Summer', [input(Quads), input(ControllerStatuses, 'runtime', 'Quadrupler')], [shared(Totals)]),
  declared('Quadrupler', [input(Doubles)], [exclusive(Quads)]),
  declared('Doubler', [input(Sources, 'default', 'a'), input(Doubles)], [exclusive(Doubles)]),
  declared('Extra', [], [shared(Totals)]),
];

describe('dependencyGraph', () => {
  it('orders controllers so that producers come before consumers, from declarations alone', () => {
    const graph = dependencyGraph(testControllers);
    expect(graph.controllers.map((c) => [c.name, c.dependsOn])).to.deep.equal([
      ['Doubler', []],
      ['Quadrupler', ['Doubler']],
      ['Summer', ['Quadrupler']],
      ['Extra', []],
    ]);
    expect(graph.cycles).to.deep.equal([]);
    expect(runs).to.equal(0);
  });

  it('lists each resource type with its writers and readers, and tells where outside inputs come from', () => {
    const graph = dependencyGraph(testControllers);
    const summary = graph.resources.map((r) => [r.type, r.source, r.writers.map((w) => `${w.controller}:${w.kind}`), r.readers.map((x) => x.controller)]);
    expect(summary).to.deep.equal([
      ['ControllerStatuses', 'runtime', [], ['Summer']],
      ['Doubles', 'controllers', ['Doubler:exclusive'], ['Quadrupler', 'Doubler']],
      ['Quads', 'controllers', ['Quadrupler:exclusive'], ['Summer']],
      ['Sources', 'user', [], ['Doubler']],
      ['Totals', 'controllers', ['Summer:shared', 'Extra:shared'], []],
    ]);
  });

  it('reports controllers that feed each other in a loop, and does not count reading its own output as one', () => {
    const graph = dependencyGraph([
      declared('Z', [input(Others)], [exclusive(Totals)]),
      declared('X', [input(Others)], [exclusive(Doubles)]),
      declared('Y', [input(Doubles)], [exclusive(Others)]),
      declared('Self', [input(Quads)], [exclusive(Quads)]),
    ]);
    expect(graph.cycles).to.deep.equal([['X', 'Y']]);
    expect(graph.controllers.map((c) => c.name)).to.deep.equal(['Self', 'Z', 'X', 'Y']);
    expect(renderDependencyText(graph)).to.contain('\ncycle: X, Y feed each other\n');
  });

  it('renders text: one block per controller, what it reads and who writes it, what it writes and who reads it', () => {
    expect(renderDependencyText(dependencyGraph(testControllers))).to.equal(
      [
        'Doubler',
        '  <- default/Sources/a     written by user/API',
        '  <- default/Doubles       written by Doubler',
        '  -> Doubles (exclusive)   read by Quadrupler, Doubler',
        'Quadrupler',
        '  <- default/Doubles     written by Doubler',
        '  -> Quads (exclusive)   read by Summer',
        'Summer',
        '  <- default/Quads                           written by Quadrupler',
        '  <- runtime/ControllerStatuses/Quadrupler   written by the runtime',
        '  -> Totals (shared)                         read by nobody',
        'Extra',
        '  -> Totals (shared)   read by nobody',
        '',
        'written outside the controllers: ControllerStatuses (the runtime), Sources (user/API)',
        '',
      ].join('\n'),
    );
    expect(renderDependencyText(dependencyGraph([]))).to.equal('no controllers\n');
  });

  it('renders Graphviz DOT with a node for every controller and type and an edge for every declaration', () => {
    const dot = renderDependencyDot(dependencyGraph(testControllers));
    const lines = dot.trimEnd().split('\n');
    expect(lines[0]).to.equal('digraph dependencies {');
    expect(lines[lines.length - 1]).to.equal('}');
    expect(lines).to.include('  "controller:Doubler" [label="Doubler", shape=box, style=rounded];');
    expect(lines).to.include('  "resource:Sources" [label="Sources", shape=ellipse, style=filled, fillcolor="#e8e8e8", tooltip="written by user/API"];');
    expect(lines).to.include('  "resource:Sources" -> "controller:Doubler" [label="default/a"];');
    expect(lines).to.include('  "controller:Extra" -> "resource:Totals" [label="shared", style=dashed];');
    expect(lines).to.include('  "controller:Quadrupler" -> "resource:Quads" [label="exclusive"];');
    const nodes = new Set(lines.filter((l) => /^ {2}"[^"]+" \[/.test(l)).map((l) => l.split(' [')[0].trim()));
    const edges = lines.filter((l) => l.includes(' -> '));
    expect(nodes.size).to.equal(4 + 5);
    expect(edges.length).to.equal(5 + 4); // inputs + outputs
    for (const e of edges) {
      const [from, to] = e.split(' [')[0].trim().split(' -> ');
      expect(nodes.has(from) && nodes.has(to), e).to.equal(true);
    }
  });

  it('escapes quotes and backslashes in DOT names', () => {
    const dot = renderDependencyDot(dependencyGraph([declared('Odd "name" \\ here', [], [])]));
    expect(dot).to.contain('"controller:Odd \\"name\\" \\\\ here" [label="Odd \\"name\\" \\\\ here"');
  });
});
