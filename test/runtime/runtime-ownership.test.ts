import { expect } from 'chai';
import { exclusive, idle, input, shared, type Controller, type ReconcileContext } from '../../src/runtime/controller.js';
import { ControllerStatuses } from '../../src/runtime/controller-status.js';
import { defineResource } from '../../src/runtime/resource.js';
import { ControllerAccessError, ControllerRegistrationError } from '../../src/runtime/runtime-errors.js';
import { Doubles, Others, Sources, Totals, harness, type Harness, type Value } from './runtime-harness.js';

function controller(name: string, inputs: Controller['inputs'], outputs: Controller['outputs'], body?: (rt: ReconcileContext) => Promise<void>): Controller {
  return {
    name,
    inputs,
    outputs,
    async reconcile(rt) {
      await body?.(rt);
      return idle();
    },
  };
}

describe('Runtime: declared inputs and outputs', () => {
  let h: Harness;
  afterEach(() => h?.close());

  it('refuses a write outside the declared outputs, naming controller, type and declaration, and writes nothing', async () => {
    const rogue = controller('Rogue', [input(Sources)], [exclusive(Doubles)], async (rt) => {
      await rt.modify(Others, 'x', () => ({ value: 1 }));
    });
    h = await harness([rogue]);
    await h.runtime.start();
    await h.runtime.settled();
    const status = h.runtime.status()[0];
    expect(status.state).to.equal('backoff');
    expect(status.lastError).to.equal(
      'controller "Rogue" cannot write default/Others: it is not among its outputs [Doubles (exclusive)]; declare it as an output',
    );
    expect(await h.state.list({ namespace: 'default', type: 'Others' })).to.deep.equal([]);
  });

  it('refuses a read outside inputs and outputs', async () => {
    let caught: unknown;
    const snoop = controller('Snoop', [input(Sources)], [exclusive(Doubles)], async (rt) => {
      await rt.get(Doubles, 'mine'); // outputs are readable
      try {
        await rt.get(Others, 'x');
      } catch (err) {
        caught = err;
      }
    });
    h = await harness([snoop]);
    await h.runtime.start();
    await h.runtime.settled();
    expect(caught).to.be.instanceOf(ControllerAccessError);
    expect((caught as Error).message).to.equal(
      'controller "Snoop" cannot read default/Others/x: it is not among its inputs [default/Sources] or outputs [Doubles (exclusive)]; declare it as an input',
    );
  });

  it('limits an id-scoped input to that id, and an input to its namespace', async () => {
    const errors: string[] = [];
    const narrow = controller('Narrow', [input(Sources, 'default', 'a')], [], async (rt) => {
      for (const read of [() => rt.get(Sources, 'b'), () => rt.get(Sources, 'a', 'elsewhere')]) {
        try {
          await read();
        } catch (err) {
          errors.push((err as Error).message);
        }
      }
    });
    h = await harness([narrow]);
    await h.runtime.start();
    await h.runtime.settled();
    expect(errors).to.deep.equal([
      'controller "Narrow" cannot read default/Sources/b: it is not among its inputs [default/Sources/a] or outputs [none]; declare it as an input',
      'controller "Narrow" cannot read elsewhere/Sources/a: it is not among its inputs [default/Sources/a] or outputs [none]; declare it as an input',
    ]);
  });

  it('refuses to register a second controller on an exclusive output', async () => {
    h = await harness([controller('First', [], [exclusive(Doubles)])]);
    expect(() => h.runtime.register(controller('Second', [], [exclusive(Doubles)]))).to.throw(
      ControllerRegistrationError,
      'controller "Second" cannot be registered: output Doubles is already exclusive to controller "First"; make one of them the only writer',
    );
    expect(() => h.runtime.register(controller('Third', [], [shared(Doubles)]))).to.throw(ControllerRegistrationError, 'already exclusive to controller "First"');
    h.runtime.register(controller('SharerA', [], [shared(Totals)]));
    h.runtime.register(controller('SharerB', [], [shared(Totals)]));
    expect(() => h.runtime.register(controller('Grabber', [], [exclusive(Totals)]))).to.throw(
      ControllerRegistrationError,
      'output Totals is declared exclusive but controller "SharerA" already writes it (shared); declare it shared in both',
    );
    expect(h.runtime.controllers.map((c) => c.name)).to.deep.equal(['First', 'SharerA', 'SharerB']);
  });

  it('refuses duplicate names, the reserved owner name, unknown types and the runtime\'s own status type', async () => {
    h = await harness([controller('Taken', [], [])]);
    const Unknown = defineResource<Value>({ ...Others, type: 'Unknowns', aliases: [] });
    const cases: [Controller, string][] = [
      [controller('Taken', [], []), 'a controller with this name is already registered'],
      [controller('runtime', [], []), '"runtime" is the owner name of the runtime\'s own writes; choose another name'],
      [controller('', [], []), 'its name is empty'],
      [controller('In', [input(Unknown)], []), 'input type "Unknowns" is not in the resource registry; register its definition first'],
      [controller('Out', [], [exclusive(Unknown)]), 'output type "Unknowns" is not in the resource registry'],
      [controller('Status', [], [exclusive(ControllerStatuses)]), 'ControllerStatuses is written by the runtime itself; remove it from the outputs'],
    ];
    for (const [c, message] of cases) expect(() => h.runtime.register(c), c.name).to.throw(ControllerRegistrationError, message);
  });

  it('lets controllers share an output type but not each other\'s resources', async () => {
    const results: string[] = [];
    const a = controller('SharerA', [input(Sources)], [shared(Totals)], async (rt) => {
      await rt.modify(Totals, 'a', () => ({ value: 1 }));
    });
    const b = controller('SharerB', [input(Sources)], [shared(Totals)], async (rt) => {
      await rt.modify(Totals, 'b', () => ({ value: 2 }));
      if ((await rt.get(Totals, 'a')) === undefined) return;
      try {
        await rt.modify(Totals, 'a', () => ({ value: 99 }));
        results.push('overwrote');
      } catch (err) {
        results.push((err as Error).message);
      }
    });
    h = await harness([a, b]);
    await h.runtime.start();
    await h.runtime.settled();
    await h.setSource('poke', 1);
    await h.runtime.settled();
    const totals = await h.state.list<Value>({ namespace: 'default', type: 'Totals' });
    expect(totals.map((t) => [t.metadata.id, t.metadata.owner, t.spec.value])).to.deep.equal([
      ['a', 'SharerA', 1],
      ['b', 'SharerB', 2],
    ]);
    expect(results).to.not.be.empty;
    expect(results.every((r) => r === 'resource default/Totals/a is owned by "SharerA", not by "SharerB"')).to.equal(true);
  });

  it('refuses registration once the runtime has started', async () => {
    h = await harness([]);
    await h.runtime.start();
    expect(() => h.runtime.register(controller('Late', [], []))).to.throw(
      ControllerRegistrationError,
      'controller "Late" cannot be registered: the runtime has already started; register every controller before start()',
    );
  });
});
