// The behaviour every State backend must show, written once: SQLite runs it now, etcd will run it unchanged.
// Modelled on COSI's state conformance suite and etcd's watch guarantees (ordered, unique, atomic, reliable,
// resumable, bookmarkable).
import { expect } from 'chai';
import {
  AlreadyExistsError,
  ConflictError,
  IntegrityError,
  InvalidBookmarkError,
  NotFoundError,
  OwnerConflictError,
  PhaseConflictError,
  UnsupportedTypeError,
  ValidationError,
} from '../../src/runtime/errors.js';
import type { Pointer, Resource, ResourceRegistry } from '../../src/runtime/resource.js';
import type { State, WatchEvent } from '../../src/runtime/state.js';
import { testRegistry } from '../fixtures-runtime/definitions.js';
import type { KeyPairSpec, WidgetSpec } from '../fixtures-runtime/definitions.js';
import { WatchCollector } from '../fixtures-runtime/watch-collector.js';
import { rejection } from '../support/caught.js';

export interface ConformanceHarness {
  state: State;
  /** Closes `state` and opens the same store again, as a restarted process would. */
  reopen?: () => Promise<State>;
  /** Opens a second client of the same store, as another process would. */
  peer?: () => Promise<State>;
  cleanup: () => Promise<void>;
  /**
   * Edits the stored spec of `to` behind the store's back, as someone with the file (or etcd access) but not the key
   * would: plain JSON, or the stored (sealed) bytes of another resource.
   */
  forge?: (to: Pointer, with_: { json: string } | { copyOf: Pointer }) => Promise<void>;
}

export type OpenStore = (registry: ResourceRegistry) => Promise<ConformanceHarness>;

const NS = 'default';
const kind = { namespace: NS, type: 'Widgets' };
const w = (id: string): Pointer => ({ namespace: NS, type: 'Widgets', id });
const widget = (id: string, size = 1, labels?: Record<string, string>) => ({ metadata: { ...w(id), labels }, spec: { size } });


export function stateConformance(name: string, open: OpenStore): void {
  describe(`State conformance: ${name}`, () => {
    let h: ConformanceHarness;
    let state: State;
    const collectors: WatchCollector[] = [];
    const watchKind = (opts: Parameters<State['watchKind']>[1] = {}) => {
      const c = new WatchCollector<WidgetSpec>(state.watchKind<WidgetSpec>(kind, opts));
      collectors.push(c as WatchCollector);
      return c;
    };

    beforeEach(async () => {
      h = await open(testRegistry());
      state = h.state;
    });

    afterEach(async () => {
      for (const c of collectors.splice(0)) c.stop();
      await h.cleanup();
    });

    describe('create, get, update, destroy', () => {
      it('creates a resource at version 1, owned by the writer, running, with timestamps', async () => {
        const created = await state.create(widget('a', 3, { tier: 'gold' }), { owner: 'WidgetController' });
        expect(created.metadata).to.include({ namespace: NS, type: 'Widgets', id: 'a', version: 1, owner: 'WidgetController', phase: 'running' });
        expect(created.metadata.labels).to.deep.equal({ tier: 'gold' });
        expect(created.metadata.finalizers).to.deep.equal([]);
        expect(Date.parse(created.metadata.created)).to.be.a('number').and.not.NaN;
        expect(created.metadata.updated).to.equal(created.metadata.created);
        const read = await state.get<WidgetSpec>(w('a'));
        expect(read).to.deep.equal(created);
      });

      it("stamps owner '' (a user) when no owner is given", async () => {
        expect((await state.create(widget('a'))).metadata.owner).to.equal('');
      });

      it('refuses to create a resource that exists, leaving the original as it was', async () => {
        await state.create(widget('a', 1));
        const err = await rejection(state.create(widget('a', 2)));
        expect(err).to.be.instanceOf(AlreadyExistsError);
        expect(err.message).to.equal('resource default/Widgets/a already exists');
        expect((await state.get<WidgetSpec>(w('a'))).spec.size).to.equal(1);
      });

      it('reports a missing resource as NotFoundError from get and undefined from find', async () => {
        const err = await rejection(state.get(w('nope')));
        expect(err).to.be.instanceOf(NotFoundError);
        expect(err.message).to.equal("resource default/Widgets/nope doesn't exist");
        expect(await state.find(w('nope'))).to.equal(undefined);
      });

      it('accepts a type alias and stores the resource under its canonical type', async () => {
        const created = await state.create({ metadata: { namespace: NS, type: 'WD', id: 'a' }, spec: { size: 1 } });
        expect(created.metadata.type).to.equal('Widgets');
        expect((await state.get({ namespace: NS, type: 'widget', id: 'a' })).metadata.type).to.equal('Widgets');
      });

      it('bumps the version by one on each update and keeps created and owner', async () => {
        const v1 = await state.create(widget('a', 1), { owner: 'c' });
        const v2 = await state.update<WidgetSpec>({ ...v1, spec: { size: 2 } }, { owner: 'c' });
        const v3 = await state.update<WidgetSpec>({ ...v2, spec: { size: 3 } }, { owner: 'c' });
        expect([v2.metadata.version, v3.metadata.version]).to.deep.equal([2, 3]);
        expect(v3.metadata.created).to.equal(v1.metadata.created);
        expect(v3.metadata.owner).to.equal('c');
        expect(await state.get(w('a'))).to.deep.equal(v3);
      });

      it('refuses an update from a stale version with ConflictError naming both versions', async () => {
        const v1 = await state.create(widget('a', 1));
        await state.update({ ...v1, spec: { size: 2 } });
        const err = await rejection(state.update({ ...v1, spec: { size: 9 } }));
        expect(err).to.be.instanceOf(ConflictError);
        expect(err.message).to.equal('resource default/Widgets/a update conflict: expected version "1", actual version "2"');
        expect((await state.get<WidgetSpec>(w('a'))).spec.size).to.equal(2);
      });

      it('refuses to update a resource that does not exist', async () => {
        const err = await rejection(state.update({ metadata: { ...w('ghost'), version: 1 } as Resource['metadata'], spec: { size: 1 } }));
        expect(err).to.be.instanceOf(NotFoundError);
      });

      it('refuses an update or destroy by a writer that does not own the resource', async () => {
        const v1 = await state.create(widget('a'), { owner: 'owner-a' });
        const upd = await rejection(state.update({ ...v1, spec: { size: 5 } }, { owner: 'intruder' }));
        expect(upd).to.be.instanceOf(OwnerConflictError);
        expect(upd.message).to.equal('resource default/Widgets/a is owned by "owner-a", not by "intruder"');
        expect(await rejection(state.update({ ...v1, spec: { size: 5 } }))).to.be.instanceOf(OwnerConflictError);
        expect(await rejection(state.destroy(w('a'), { owner: 'intruder' }))).to.be.instanceOf(OwnerConflictError);
        expect(await state.get(w('a'))).to.deep.equal(v1);
      });

      it('destroys a resource, after which it is gone and cannot be destroyed again', async () => {
        await state.create(widget('a'));
        await state.destroy(w('a'));
        expect(await state.find(w('a'))).to.equal(undefined);
        expect(await rejection(state.destroy(w('a')))).to.be.instanceOf(NotFoundError);
      });

      it('destroys with an expected version only while the resource is at that version', async () => {
        const v1 = await state.create(widget('a'));
        await state.update({ ...v1, spec: { size: 2 } });
        const err = await rejection(state.destroy(w('a'), { expectedVersion: 1 }));
        expect(err).to.be.instanceOf(ConflictError);
        await state.destroy(w('a'), { expectedVersion: 2 });
        expect(await state.find(w('a'))).to.equal(undefined);
      });

      it('returns copies: changing a returned resource does not change the store', async () => {
        const created = await state.create<WidgetSpec>(widget('a', 1, { k: 'v' }));
        created.spec.size = 100;
        created.metadata.labels.k = 'changed';
        const read = await state.get<WidgetSpec>(w('a'));
        expect(read.spec.size).to.equal(1);
        expect(read.metadata.labels.k).to.equal('v');
      });

      it('round-trips the spec of a sensitive type', async () => {
        const pointer = { namespace: 'secrets', type: 'KeyPairs', id: 'os' };
        await state.create<KeyPairSpec>({ metadata: pointer, spec: { key: 'secret material' } });
        expect((await state.get<KeyPairSpec>(pointer)).spec.key).to.equal('secret material');
      });
    });

    describe('validation', () => {
      it('refuses an invalid spec with ValidationError naming the field, and writes nothing', async () => {
        const before = await state.revision();
        const err = await rejection(state.create({ metadata: w('a'), spec: { size: 'big' } }));
        expect(err).to.be.instanceOf(ValidationError);
        expect(err.message).to.equal('spec.size: expected a number, got string');
        expect(await state.find(w('a'))).to.equal(undefined);
        expect(await state.revision()).to.equal(before);
      });

      it('validates the spec on update too', async () => {
        const v1 = await state.create(widget('a'));
        expect(await rejection(state.update({ ...v1, spec: { size: null } }))).to.be.instanceOf(ValidationError);
        expect(await state.get(w('a'))).to.deep.equal(v1);
      });

      it('refuses empty ids and non-string labels, naming the field', async () => {
        const noId = await rejection(state.create({ metadata: { namespace: NS, type: 'Widgets', id: '' }, spec: { size: 1 } }));
        expect(noId).to.be.instanceOf(ValidationError);
        expect(noId.message).to.match(/^metadata\.id: /);
        const badLabel = await rejection(
          state.create({ metadata: { ...w('a'), labels: { n: 1 as unknown as string } }, spec: { size: 1 } }),
        );
        expect(badLabel.message).to.match(/^metadata\.labels\.n: expected a string/);
      });

      it('refuses types the registry does not know with UnsupportedTypeError, on reads, writes and watches', async () => {
        const gadget = { namespace: NS, type: 'Gadgets', id: 'g' };
        const message = 'resource type "Gadgets" is not supported';
        expect(await rejection(state.create({ metadata: gadget, spec: {} }))).to.be.instanceOf(UnsupportedTypeError).with.property('message', message);
        expect(await rejection(state.get(gadget))).to.be.instanceOf(UnsupportedTypeError);
        expect(await rejection(state.list({ namespace: NS, type: 'Gadgets' }))).to.be.instanceOf(UnsupportedTypeError);
        const c = new WatchCollector(state.watchKind({ namespace: NS, type: 'Gadgets' }));
        expect(await c.waitForError()).to.be.instanceOf(UnsupportedTypeError);
      });
    });

    describe('phases and finalizers', () => {
      it('refuses to destroy while finalizers are pending, and destroys once they are removed', async () => {
        await state.create(widget('a'));
        await state.addFinalizer(w('a'), 'cleanup.io/x', 'cleanup.io/y');
        const err = await rejection(state.destroy(w('a')));
        expect(err).to.be.instanceOf(PhaseConflictError);
        expect(err.message).to.contain('has pending finalizers (cleanup.io/x, cleanup.io/y)');
        await state.removeFinalizer(w('a'), 'cleanup.io/x', 'cleanup.io/y');
        await state.destroy(w('a'));
        expect(await state.find(w('a'))).to.equal(undefined);
      });

      it('adds finalizers whoever the owner is, once each, bumping the version only on change', async () => {
        await state.create(widget('a'), { owner: 'producer' });
        const r1 = await state.addFinalizer(w('a'), 'consumer');
        const r2 = await state.addFinalizer(w('a'), 'consumer');
        expect(r1.metadata.finalizers).to.deep.equal(['consumer']);
        expect(r1.metadata.version).to.equal(2);
        expect(r2.metadata.version).to.equal(2);
        expect(r1.metadata.owner).to.equal('producer');
        const r3 = await state.removeFinalizer(w('a'), 'consumer');
        expect(r3.metadata.finalizers).to.deep.equal([]);
        expect(r3.metadata.version).to.equal(3);
        expect((await state.removeFinalizer(w('a'), 'consumer')).metadata.version).to.equal(3);
      });

      it('tears down once: phase tearingDown, one version bump, and reports whether finalizers are left', async () => {
        await state.create(widget('a'), { owner: 'o' });
        await state.addFinalizer(w('a'), 'f');
        expect(await state.teardown(w('a'), { owner: 'o' })).to.equal(false);
        const torn = await state.get(w('a'));
        expect(torn.metadata.phase).to.equal('tearingDown');
        expect(torn.metadata.version).to.equal(3);
        expect(await state.teardown(w('a'), { owner: 'o' })).to.equal(false);
        expect((await state.get(w('a'))).metadata.version).to.equal(3);
        await state.removeFinalizer(w('a'), 'f');
        expect(await state.teardown(w('a'), { owner: 'o' })).to.equal(true);
        await state.destroy(w('a'), { owner: 'o' });
      });

      it('refuses teardown by a non-owner', async () => {
        await state.create(widget('a'), { owner: 'o' });
        expect(await rejection(state.teardown(w('a'), { owner: 'other' }))).to.be.instanceOf(OwnerConflictError);
        expect((await state.get(w('a'))).metadata.phase).to.equal('running');
      });

      it('refuses updates and new finalizers while tearing down, unless the owner allows tearing down', async () => {
        const v1 = await state.create(widget('a'));
        await state.teardown(w('a'));
        const torn = await state.get(w('a'));
        expect(await rejection(state.update({ ...torn, spec: { size: 2 } }))).to.be.instanceOf(PhaseConflictError);
        expect(await rejection(state.addFinalizer(w('a'), 'late'))).to.be.instanceOf(PhaseConflictError);
        const updated = await state.update({ ...torn, spec: { size: 2 } }, { allowTearingDown: true });
        expect(updated.metadata.phase).to.equal('tearingDown');
        expect(updated.metadata.version).to.equal(v1.metadata.version + 2);
      });
    });

    describe('list', () => {
      beforeEach(async () => {
        await state.create(widget('web-2', 2, { app: 'web', tier: 'front' }));
        await state.create(widget('web-1', 1, { app: 'web', tier: 'back' }));
        await state.create(widget('db-1', 3, { app: 'db' }));
        await state.create(widget('cache', 4));
        await state.create({ metadata: { namespace: 'other', type: 'Widgets', id: 'elsewhere' }, spec: { size: 9 } });
        await state.create({ metadata: { namespace: 'secrets', type: 'KeyPairs', id: 'k' }, spec: { key: 'x' } });
      });
      const ids = (rs: Resource[]) => rs.map((r) => r.metadata.id);

      it('lists one kind (namespace and type), sorted by id', async () => {
        expect(ids(await state.list(kind))).to.deep.equal(['cache', 'db-1', 'web-1', 'web-2']);
        expect(ids(await state.list({ namespace: 'other', type: 'Widgets' }))).to.deep.equal(['elsewhere']);
        expect(await state.list({ namespace: 'empty', type: 'Widgets' })).to.deep.equal([]);
      });

      it('filters by label equal, notEqual, exists, notExists and in; all terms must hold', async () => {
        expect(ids(await state.list(kind, { labels: [{ key: 'app', op: 'equal', value: 'web' }] }))).to.deep.equal(['web-1', 'web-2']);
        expect(ids(await state.list(kind, { labels: [{ key: 'app', op: 'notEqual', value: 'web' }] }))).to.deep.equal(['cache', 'db-1']);
        expect(ids(await state.list(kind, { labels: [{ key: 'tier', op: 'exists' }] }))).to.deep.equal(['web-1', 'web-2']);
        expect(ids(await state.list(kind, { labels: [{ key: 'app', op: 'notExists' }] }))).to.deep.equal(['cache']);
        expect(ids(await state.list(kind, { labels: [{ key: 'app', op: 'in', values: ['db', 'web'] }] }))).to.deep.equal(['db-1', 'web-1', 'web-2']);
        const both = await state.list(kind, {
          labels: [
            { key: 'app', op: 'equal', value: 'web' },
            { key: 'tier', op: 'notEqual', value: 'back' },
          ],
        });
        expect(ids(both)).to.deep.equal(['web-2']);
      });

      it('filters by ids and by id prefix', async () => {
        expect(ids(await state.list(kind, { ids: ['web-2', 'cache', 'missing'] }))).to.deep.equal(['cache', 'web-2']);
        expect(ids(await state.list(kind, { idPrefix: 'web-' }))).to.deep.equal(['web-1', 'web-2']);
        expect(ids(await state.list(kind, { idPrefix: 'web-', labels: [{ key: 'tier', op: 'equal', value: 'front' }] }))).to.deep.equal(['web-2']);
        expect(ids(await state.list(kind, { idPrefix: 'zzz' }))).to.deep.equal([]);
      });
    });

    describe('modify', () => {
      it('creates the resource when absent, with the writer as owner', async () => {
        const r = await state.modify<WidgetSpec>(w('a'), (cur) => (cur ? undefined : { spec: { size: 7 }, labels: { l: '1' } }), { owner: 'c' });
        expect(r?.metadata).to.include({ version: 1, owner: 'c' });
        expect(r?.metadata.labels).to.deep.equal({ l: '1' });
        expect((await state.get<WidgetSpec>(w('a'))).spec.size).to.equal(7);
      });

      it('updates from the current resource', async () => {
        await state.create(widget('a', 1));
        const r = await state.modify<WidgetSpec>(w('a'), (cur) => ({ spec: { size: (cur?.spec.size ?? 0) + 10 } }));
        expect(r?.spec.size).to.equal(11);
        expect(r?.metadata.version).to.equal(2);
      });

      it('writes nothing when the mutation returns undefined or changes nothing', async () => {
        const v1 = await state.create(widget('a', 1));
        const before = await state.revision();
        expect(await state.modify(w('a'), () => undefined)).to.deep.equal(v1);
        expect(await state.modify<WidgetSpec>(w('a'), (cur) => ({ spec: { size: cur?.spec.size ?? 0 } }))).to.deep.equal(v1);
        expect(await state.modify(w('missing'), () => undefined)).to.equal(undefined);
        expect(await state.revision()).to.equal(before);
      });

      it('loses no increment when many modifies run at once', async () => {
        await state.create(widget('counter', 0));
        await Promise.all(Array.from({ length: 25 }, () => state.modify<WidgetSpec>(w('counter'), (cur) => ({ spec: { size: (cur?.spec.size ?? 0) + 1 } }))));
        const final = await state.get<WidgetSpec>(w('counter'));
        expect(final.spec.size).to.equal(25);
        expect(final.metadata.version).to.equal(26);
      });

      it('passes errors other than conflicts through', async () => {
        await state.create(widget('a'), { owner: 'o' });
        expect(await rejection(state.modify(w('a'), () => ({ spec: { size: 2 } }), { owner: 'x' }))).to.be.instanceOf(OwnerConflictError);
        expect(await rejection(state.modify(w('a'), () => ({ spec: { size: 'x' } }), { owner: 'o' }))).to.be.instanceOf(ValidationError);
      });
    });

    describe('batch', () => {
      it('applies every op in order and returns their results', async () => {
        const v1 = await state.create(widget('old'));
        const out = await state.batch([
          { op: 'create', resource: widget('a', 1) },
          { op: 'update', resource: { ...v1, spec: { size: 5 } } },
          { op: 'destroy', pointer: w('a') },
        ]);
        expect(out.map((r) => [r.metadata.id, r.metadata.version])).to.deep.equal([
          ['a', 1],
          ['old', 2],
          ['a', 1],
        ]);
        expect(await state.find(w('a'))).to.equal(undefined);
        expect((await state.get<WidgetSpec>(w('old'))).spec.size).to.equal(5);
      });

      it('applies nothing when any op fails, and says which op failed', async () => {
        await state.create(widget('exists'));
        const before = await state.revision();
        const err = await rejection(
          state.batch([
            { op: 'create', resource: widget('a') },
            { op: 'create', resource: widget('exists') },
          ]),
        );
        expect(err).to.be.instanceOf(AlreadyExistsError);
        expect(err.message).to.contain('batch op 1 (create)');
        expect(await state.find(w('a'))).to.equal(undefined);
        expect(await state.revision()).to.equal(before);
      });
    });

    describe('watch guarantees', () => {
      it('delivers every change of a kind in commit order, once, with consecutive bookmarks (ordered, unique, reliable)', async () => {
        const start = await state.revision();
        const c = watchKind();
        const r = await state.create(widget('a'));
        let cur = r;
        for (let i = 0; i < 20; i++) cur = await state.update({ ...cur, spec: { size: i } });
        await state.create(widget('b'));
        await state.destroy(w('b'));
        const events = await c.waitFor(23);
        expect(events.map((e) => e.bookmark)).to.deep.equal(Array.from({ length: 23 }, (_, i) => start + 1 + i));
        expect(events.map((e) => e.type)).to.deep.equal(['created', ...Array(20).fill('updated'), 'created', 'destroyed']);
        expect(events.slice(1, 21).map((e) => e.resource?.metadata.version)).to.deep.equal(Array.from({ length: 20 }, (_, i) => i + 2));
      });

      it('carries the previous resource on updated events and the last state on destroyed events', async () => {
        const c = watchKind();
        const v1 = await state.create(widget('a', 1));
        await state.update({ ...v1, spec: { size: 2 } });
        await state.destroy(w('a'));
        const [, updated, destroyed] = await c.waitFor(3);
        expect(updated.old?.spec).to.deep.equal({ size: 1 });
        expect(updated.resource?.spec).to.deep.equal({ size: 2 });
        expect(destroyed.resource?.metadata.version).to.equal(2);
        expect(destroyed.resource?.spec).to.deep.equal({ size: 2 });
      });

      it('shows a batch whole: consecutive events, and nothing at all from a failed batch (atomic)', async () => {
        const c = watchKind();
        await state.create(widget('x'));
        await rejection(state.batch([{ op: 'create', resource: widget('ghost') }, { op: 'create', resource: widget('x') }]));
        await state.batch([
          { op: 'create', resource: widget('b1') },
          { op: 'create', resource: widget('b2') },
          { op: 'create', resource: widget('b3') },
        ]);
        const events = await c.waitFor(4);
        expect(events.map((e) => e.resource?.metadata.id)).to.deep.equal(['x', 'b1', 'b2', 'b3']);
        expect(events[2].bookmark - events[1].bookmark).to.equal(1);
        expect(events[3].bookmark - events[2].bookmark).to.equal(1);
        expect(events[1].bookmark - events[0].bookmark).to.equal(1);
      });

      it('resumes after a bookmark with exactly the later changes, then live ones (resumable, bookmarkable)', async () => {
        const first = watchKind();
        await state.create(widget('a'));
        await state.create(widget('b'));
        const [, atB] = await first.waitFor(2);
        await state.create(widget('c'));
        await state.create(widget('d'));
        const resumed = watchKind({ since: atB.bookmark });
        const replayed = await resumed.waitFor(2);
        expect(replayed.map((e) => e.resource?.metadata.id)).to.deep.equal(['c', 'd']);
        await state.create(widget('e'));
        const all = await resumed.waitFor(3);
        expect(all.map((e) => e.resource?.metadata.id)).to.deep.equal(['c', 'd', 'e']);
      });

      it('watches from the current revision without replaying anything', async () => {
        await state.create(widget('a'));
        const c = watchKind({ since: await state.revision() });
        await state.create(widget('b'));
        expect((await c.waitFor(1)).map((e) => e.resource?.metadata.id)).to.deep.equal(['b']);
      });

      it('refuses a bookmark ahead of the store with InvalidBookmarkError', async () => {
        await state.create(widget('a'));
        const c = watchKind({ since: (await state.revision()) + 1000 });
        expect(await c.waitForError()).to.be.instanceOf(InvalidBookmarkError);
      });

      it('bootstraps the current resources as created, sorted by id, then a bootstrapped marker, then live changes', async () => {
        await state.create(widget('b'));
        await state.create(widget('a'));
        await state.destroy(w('b'));
        const c = watchKind({ bootstrap: true });
        const boot = await c.waitFor(2);
        expect(boot.map((e) => `${e.type}:${e.resource?.metadata.id ?? ''}`)).to.deep.equal(['created:a', 'bootstrapped:']);
        expect(boot[1].bookmark).to.equal(await state.revision());
        await state.create(widget('c'));
        const [, , live] = await c.waitFor(3);
        expect(live).to.include({ type: 'created' });
        expect(live.resource?.metadata.id).to.equal('c');
      });

      it('bootstraps an empty kind with just the marker', async () => {
        const c = watchKind({ bootstrap: true });
        const [marker] = await c.waitFor(1);
        expect(marker.type).to.equal('bootstrapped');
        expect(marker.resource).to.equal(undefined);
      });

      it('neither loses nor repeats a change made while a bootstrap watch starts', async () => {
        // A watcher already running means changes are in flight to watchers while the new one bootstraps.
        const bystander = watchKind();
        const writes: Promise<unknown>[] = [];
        for (let i = 0; i < 10; i++) writes.push(state.create(widget(`pre-${i}`)));
        const c = watchKind({ bootstrap: true });
        for (let i = 0; i < 10; i++) writes.push(state.create(widget(`post-${i}`)));
        await Promise.all(writes);
        await state.create(widget('last'));
        const view = new Map<string, number>();
        const seen = new Set<string>();
        await c.waitFor(1);
        while (!c.events.some((e) => e.resource?.metadata.id === 'last')) await c.waitFor(c.events.length + 1);
        for (const e of c.events) {
          if (e.type === 'bootstrapped') continue;
          const key = `${e.resource?.metadata.id}@${e.resource?.metadata.version}`;
          expect(seen.has(key), `delivered twice: ${key}`).to.equal(false);
          seen.add(key);
          view.set(e.resource!.metadata.id, e.resource!.metadata.version);
        }
        const listed = await state.list(kind);
        expect([...view.keys()].sort()).to.deep.equal(listed.map((r) => r.metadata.id));
        expect(bystander.events.length).to.be.greaterThan(0);
      });

      it('neither loses nor repeats a change made while a resumed watch starts', async () => {
        const bystander = watchKind();
        await state.create(widget('a'));
        const since = await state.revision();
        const writes = [state.create(widget('b')), state.create(widget('c'))];
        const c = watchKind({ since });
        writes.push(state.create(widget('d')));
        await Promise.all(writes);
        await state.create(widget('e'));
        await bystander.waitFor(5);
        const events = await c.waitFor(4);
        expect(events.map((e) => e.resource?.metadata.id)).to.deep.equal(['b', 'c', 'd', 'e']);
        await state.create(widget('f'));
        await c.waitFor(5);
        expect(c.events.map((e) => e.resource?.metadata.id)).to.deep.equal(['b', 'c', 'd', 'e', 'f']);
      });

      it('filters a kind watch by labels and id prefix, turning entering and leaving the selector into created and destroyed', async () => {
        const c = watchKind({ labels: [{ key: 'app', op: 'equal', value: 'web' }], idPrefix: 'w-' });
        const plain = await state.create(widget('w-1', 1));
        await state.create(widget('other', 1, { app: 'web' }));
        const joined = await state.update({ ...plain, metadata: { ...plain.metadata, labels: { app: 'web' } } });
        const stays = await state.update({ ...joined, spec: { size: 2 } });
        await state.update({ ...stays, metadata: { ...stays.metadata, labels: {} } });
        await state.create(widget('w-2', 1, { app: 'web' }));
        const events = await c.waitFor(4);
        expect(events.map((e) => `${e.type}:${e.resource?.metadata.id}`)).to.deep.equal(['created:w-1', 'updated:w-1', 'destroyed:w-1', 'created:w-2']);
      });

      it('watches one resource: its current state first, then only its own changes', async () => {
        const v1 = await state.create(widget('a', 1));
        await state.create(widget('b', 1));
        const c = new WatchCollector<WidgetSpec>(state.watch<WidgetSpec>(w('a')));
        collectors.push(c as WatchCollector);
        await state.update({ ...(await state.get(w('b'))), spec: { size: 5 } });
        await state.update({ ...v1, spec: { size: 2 } });
        await state.destroy(w('a'));
        const events = await c.waitFor(3);
        expect(events.map((e) => `${e.type}:${e.resource?.spec.size}`)).to.deep.equal(['created:1', 'updated:2', 'destroyed:2']);
      });

      it('watches a resource that does not exist yet and sees it created', async () => {
        const c = new WatchCollector(state.watch(w('later')));
        collectors.push(c);
        await state.create(widget('later'));
        const [created] = await c.waitFor(1);
        expect(created.type).to.equal('created');
      });

      it('stops delivering after unsubscribe', async () => {
        const stopped = watchKind();
        const running = watchKind();
        await state.create(widget('a'));
        await stopped.waitFor(1);
        stopped.stop();
        await state.create(widget('b'));
        await running.waitFor(2);
        expect(stopped.events).to.have.length(1);
      });

      it('resumes from a bookmark after the store is reopened', async function () {
        if (!h.reopen) this.skip();
        await state.create(widget('a'));
        const bookmark = await state.revision();
        await state.create(widget('b'));
        state = await h.reopen!();
        await state.create(widget('c'));
        const c = watchKind({ since: bookmark });
        expect((await c.waitFor(2)).map((e) => e.resource?.metadata.id)).to.deep.equal(['b', 'c']);
      });

      it("delivers another client's writes to watchers, in order", async function () {
        if (!h.peer) this.skip();
        const peer = await h.peer!();
        try {
          const c = watchKind();
          await state.create(widget('mine'));
          await peer.create(widget('theirs-1'));
          await peer.create(widget('theirs-2'));
          await state.create(widget('mine-2'));
          const events = await c.waitFor(4);
          expect(events.map((e) => e.resource?.metadata.id)).to.deep.equal(['mine', 'theirs-1', 'theirs-2', 'mine-2']);
          expect(events.map((e) => e.bookmark - events[0].bookmark)).to.deep.equal([0, 1, 2, 3]);
        } finally {
          await peer.close();
        }
      });
    });

    describe('sealing integrity', () => {
      const key = (id: string): Pointer => ({ namespace: 'secrets', type: 'KeyPairs', id });

      it('refuses a sensitive spec stored in the clear: an IntegrityError naming it on get, list and watch, never its value', async function () {
        if (!h.forge) this.skip();
        await state.create<KeyPairSpec>({ metadata: key('os'), spec: { key: 'the node key' } });
        await h.forge!(key('os'), { json: JSON.stringify({ key: 'attacker key' }) });
        const expected = 'secrets/KeyPairs/os is not sealed: the store was edited without its key; restore from a snapshot you trust';
        const got = await rejection(state.get(key('os')));
        expect(got).to.be.instanceOf(IntegrityError);
        expect(got.message).to.contain(expected);
        expect((await rejection(state.list({ namespace: 'secrets', type: 'KeyPairs' }))).message).to.contain(expected);
        const c = new WatchCollector(state.watch(key('os')));
        collectors.push(c);
        expect(String(await c.waitForError())).to.contain(expected);
        expect(c.events).to.deep.equal([]);
        // Nor is it written over: a modify has to read it first.
        expect(await rejection(state.modify<KeyPairSpec>(key('os'), () => ({ spec: { key: 'x' } })))).to.be.instanceOf(IntegrityError);
      });

      it('refuses a sensitive spec sealed for another resource, and still serves the one it was sealed for', async function () {
        if (!h.forge) this.skip();
        await state.create<KeyPairSpec>({ metadata: key('a'), spec: { key: 'key a' } });
        await state.create<KeyPairSpec>({ metadata: key('b'), spec: { key: 'key b' } });
        await h.forge!(key('b'), { copyOf: key('a') });
        const got = await rejection(state.get(key('b')));
        expect(got).to.be.instanceOf(IntegrityError);
        expect(got.message).to.contain('secrets/KeyPairs/b is sealed for another resource or altered');
        expect((await state.get<KeyPairSpec>(key('a'))).spec.key).to.equal('key a');
      });

      it('verifySealing passes a store its key wrote and names the first spec forged without the key', async function () {
        if (!h.forge) this.skip();
        await state.create<KeyPairSpec>({ metadata: key('os'), spec: { key: 'k1' } });
        await state.modify<KeyPairSpec>(key('os'), () => ({ spec: { key: 'k2' } }));
        await state.create(widget('a', 1));
        await state.verifySealing();
        await h.forge!(key('os'), { json: JSON.stringify({ key: 'attacker key' }) });
        const err = await rejection(state.verifySealing());
        expect(err).to.be.instanceOf(IntegrityError);
        expect(err.message).to.contain('secrets/KeyPairs/os is not sealed');
      });

      it('still reads a non-sensitive spec stored as JSON', async function () {
        if (!h.forge) this.skip();
        await state.create(widget('a', 1));
        await h.forge!(w('a'), { json: JSON.stringify({ size: 5 }) });
        expect((await state.get<WidgetSpec>(w('a'))).spec.size).to.equal(5);
      });
    });

    describe('history of sensitive types', () => {
      const pair = (id: string): Pointer => ({ namespace: 'secrets', type: 'KeyPairs', id });
      const pairs = { namespace: 'secrets', type: 'KeyPairs' };
      /** What a watch from `since` replays before the live event of a marker written after subscribing. */
      const replayFrom = async (since: number): Promise<WatchEvent<KeyPairSpec>[]> => {
        const c = new WatchCollector<KeyPairSpec>(state.watchKind<KeyPairSpec>(pairs, { since }));
        collectors.push(c as WatchCollector);
        await state.create<KeyPairSpec>({ metadata: pair('zz-marker'), spec: { key: 'marker' } });
        const isMarker = (e: WatchEvent<KeyPairSpec>) => e.resource?.metadata.id === 'zz-marker';
        while (!c.events.some(isMarker)) await c.waitFor(c.events.length + 1);
        return c.events.slice(0, c.events.findIndex(isMarker));
      };

      it('replays a sensitive resource from bookmark 0 only as it is now: no superseded key, no old spec', async () => {
        await state.create<KeyPairSpec>({ metadata: pair('os'), spec: { key: 'key 1' } });
        await state.modify<KeyPairSpec>(pair('os'), () => ({ spec: { key: 'key 2' } }));
        const now = await state.modify<KeyPairSpec>(pair('os'), () => ({ spec: { key: 'key 3' } }));
        const revision = await state.revision();
        const replayed = await replayFrom(0);
        expect(replayed.map((e) => [e.type, e.resource?.spec.key])).to.deep.equal([['updated', 'key 3']]);
        expect(replayed[0].old).to.equal(undefined);
        expect(replayed[0].bookmark).to.equal(revision);
        expect(replayed[0].resource?.metadata.version).to.equal(now?.metadata.version);
        expect(JSON.stringify(replayed)).not.to.match(/key [12]/);
      });

      it('replays a destroyed sensitive resource as destroyed, without what it held', async () => {
        await state.create<KeyPairSpec>({ metadata: pair('gone'), spec: { key: 'old key' } });
        await state.destroy(pair('gone'));
        const replayed = await replayFrom(0);
        expect(replayed.map((e) => [e.type, e.resource?.metadata.id])).to.deep.equal([['destroyed', 'gone']]);
        expect(JSON.stringify(replayed)).not.to.contain('old key');
      });

      it('delivers live updates of a sensitive type without the old spec, and keeps non-sensitive old specs', async () => {
        await state.create<KeyPairSpec>({ metadata: pair('live'), spec: { key: 'before' } });
        const c = new WatchCollector<KeyPairSpec>(state.watch<KeyPairSpec>(pair('live')));
        collectors.push(c as WatchCollector);
        await c.waitFor(1);
        await state.modify<KeyPairSpec>(pair('live'), () => ({ spec: { key: 'after' } }));
        const [, updated] = await c.waitFor(2);
        expect(updated.type).to.equal('updated');
        expect(updated.resource?.spec.key).to.equal('after');
        expect(updated.old).to.equal(undefined);
      });
    });

    it('reports events of a sensitive type with their spec readable to watchers', async () => {
      const pointer = { namespace: 'secrets', type: 'KeyPairs', id: 'k' };
      const c = new WatchCollector<KeyPairSpec>(state.watch<KeyPairSpec>(pointer));
      collectors.push(c as WatchCollector);
      await state.create<KeyPairSpec>({ metadata: pointer, spec: { key: 'k1' } });
      const [event] = await c.waitFor(1);
      expect((event as WatchEvent<KeyPairSpec>).resource?.spec.key).to.equal('k1');
    });
  });
}
