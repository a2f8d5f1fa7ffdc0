// The controller/resource graph, built from declarations alone (nothing runs): who reads what, who writes what, in
// which order the controllers feed each other, and which inputs come from outside (the user, the API).
import type { Controller, ControllerInput, ControllerOutput } from './controller.js';
import { ControllerStatuses } from './controller-status.js';

export interface ResourceNode {
  type: string;
  writers: { controller: string; kind: ControllerOutput['kind'] }[];
  readers: { controller: string; input: ControllerInput }[];
  /** Written by no controller: it comes from the user or the API, or (ControllerStatuses) from the runtime itself. */
  external: boolean;
  source: 'controllers' | 'runtime' | 'user';
}

export interface ControllerNode {
  name: string;
  inputs: readonly ControllerInput[];
  outputs: readonly ControllerOutput[];
  /** Controllers whose outputs this one reads (itself excluded). */
  dependsOn: string[];
}

export interface DependencyGraph {
  /** Producers before consumers; declaration order among equals; members of cycles last. */
  controllers: ControllerNode[];
  /** By type name. */
  resources: ResourceNode[];
  /** Groups of controllers that feed each other in a loop (a controller reading its own output is not one). */
  cycles: string[][];
}

export function dependencyGraph(controllers: readonly Controller[]): DependencyGraph {
  const resources = new Map<string, ResourceNode>();
  const node = (type: string) => {
    let r = resources.get(type);
    if (!r) resources.set(type, (r = { type, writers: [], readers: [], external: false, source: 'controllers' }));
    return r;
  };
  for (const c of controllers) {
    for (const o of c.outputs) node(o.type).writers.push({ controller: c.name, kind: o.kind });
    for (const i of c.inputs) node(i.type).readers.push({ controller: c.name, input: i });
  }
  for (const r of resources.values()) {
    r.external = r.writers.length === 0;
    if (r.external) r.source = r.type === ControllerStatuses.type ? 'runtime' : 'user';
  }

  const nodes: ControllerNode[] = controllers.map((c) => {
    const dependsOn = new Set<string>();
    for (const i of c.inputs) for (const w of resources.get(i.type)!.writers) if (w.controller !== c.name) dependsOn.add(w.controller);
    return { name: c.name, inputs: c.inputs, outputs: c.outputs, dependsOn: [...dependsOn] };
  });
  const { ordered, rest } = topologicalOrder(nodes);
  return {
    controllers: [...ordered, ...rest],
    resources: [...resources.values()].sort((a, b) => a.type.localeCompare(b.type)),
    cycles: findCycles(rest),
  };
}

/** Kahn's algorithm, always taking the earliest-declared ready controller so the order is stable. */
function topologicalOrder(nodes: ControllerNode[]): { ordered: ControllerNode[]; rest: ControllerNode[] } {
  const done = new Set<string>();
  const ordered: ControllerNode[] = [];
  let pending = nodes;
  for (;;) {
    const next = pending.find((n) => n.dependsOn.every((d) => done.has(d)));
    if (!next) return { ordered, rest: pending };
    ordered.push(next);
    done.add(next.name);
    pending = pending.filter((n) => n !== next);
  }
}

/** The strongly connected groups among the controllers Kahn's algorithm could not order (Tarjan), in declaration order. */
function findCycles(nodes: ControllerNode[]): string[][] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const groups: string[][] = [];
  const visit = (name: string): void => {
    index.set(name, index.size);
    low.set(name, index.get(name)!);
    stack.push(name);
    for (const dep of byName.get(name)!.dependsOn) {
      if (!byName.has(dep)) continue;
      if (!index.has(dep)) {
        visit(dep);
        low.set(name, Math.min(low.get(name)!, low.get(dep)!));
      } else if (stack.includes(dep)) {
        low.set(name, Math.min(low.get(name)!, index.get(dep)!));
      }
    }
    if (low.get(name) !== index.get(name)) return;
    const group: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      group.push(member);
    } while (member !== name);
    if (group.length > 1) groups.push(group);
  };
  for (const n of nodes) if (!index.has(n.name)) visit(n.name);
  const order = (name: string) => nodes.findIndex((n) => n.name === name);
  return groups.map((g) => g.sort((a, b) => order(a) - order(b))).sort((a, b) => order(a[0]) - order(b[0]));
}

function describeInput(i: ControllerInput): string {
  return `${i.namespace}/${i.type}${i.id === undefined ? '' : `/${i.id}`}`;
}

function names(list: string[], none: string): string {
  return list.length ? list.join(', ') : none;
}

function writtenBy(r: ResourceNode): string {
  if (r.source === 'runtime') return 'the runtime';
  return names(r.writers.map((w) => w.controller), 'user/API');
}

/** One block per controller, in dependency order: `<-` what it reads and who writes it, `->` what it writes and who reads it. */
export function renderDependencyText(graph: DependencyGraph): string {
  if (graph.controllers.length === 0) return 'no controllers\n';
  const resources = new Map(graph.resources.map((r) => [r.type, r]));
  const lines: string[] = [];
  for (const c of graph.controllers) {
    const rows: [string, string][] = [
      ...c.inputs.map((i): [string, string] => [
        `<- ${describeInput(i)}`,
        `written by ${writtenBy(resources.get(i.type)!)}`,
      ]),
      ...c.outputs.map((o): [string, string] => [
        `-> ${o.type} (${o.kind})`,
        `read by ${names([...new Set(resources.get(o.type)!.readers.map((r) => r.controller))], 'nobody')}`,
      ]),
    ];
    const width = Math.max(0, ...rows.map(([left]) => left.length));
    lines.push(c.name, ...rows.map(([left, right]) => `  ${left.padEnd(width)}   ${right}`));
    if (rows.length === 0) lines.push('  (no inputs or outputs)');
  }
  const external = graph.resources.filter((r) => r.external).map((r) => `${r.type} (${writtenBy(r)})`);
  if (external.length) lines.push('', `written outside the controllers: ${external.join(', ')}`);
  for (const cycle of graph.cycles) lines.push('', `cycle: ${cycle.join(', ')} feed each other`);
  return `${lines.join('\n')}\n`;
}

function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Graphviz DOT: boxes for controllers, ellipses for resource types (grey when written outside the controllers). */
export function renderDependencyDot(graph: DependencyGraph): string {
  const ctrl = (name: string) => quote(`controller:${name}`);
  const res = (type: string) => quote(`resource:${type}`);
  const lines = ['digraph dependencies {', '  rankdir=LR;', '  node [fontname="Helvetica", fontsize=10];', '  edge [fontname="Helvetica", fontsize=8];'];
  for (const c of graph.controllers) lines.push(`  ${ctrl(c.name)} [label=${quote(c.name)}, shape=box, style=rounded];`);
  for (const r of graph.resources) {
    const style = r.external ? `, style=filled, fillcolor="#e8e8e8", tooltip=${quote(`written by ${writtenBy(r)}`)}` : '';
    lines.push(`  ${res(r.type)} [label=${quote(r.type)}, shape=ellipse${style}];`);
  }
  for (const c of graph.controllers) {
    for (const i of c.inputs) {
      lines.push(`  ${res(i.type)} -> ${ctrl(c.name)} [label=${quote(i.id === undefined ? i.namespace : `${i.namespace}/${i.id}`)}];`);
    }
    for (const o of c.outputs) {
      lines.push(`  ${ctrl(c.name)} -> ${res(o.type)} [label=${quote(o.kind)}${o.kind === 'shared' ? ', style=dashed' : ''}];`);
    }
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
