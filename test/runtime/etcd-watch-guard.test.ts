import { expect } from 'chai';
import { createRequire } from 'node:module';
import { guardWatchResponses } from '../../src/runtime/etcd/watch-response-guard.js';

interface Manager {
  watchers: { id: string | null }[];
  initialBackoff: { next(): number };
  handleResponse(res: { watch_id: string; canceled?: boolean }): void;
  handleUpdateResponse(watcher: unknown, res: unknown): void;
}

describe('etcd3 watch response guard', () => {
  const { WatchManager } = createRequire(import.meta.url)('etcd3/lib/watch.js') as { WatchManager: { prototype: Manager } };
  const manager = (watchers: { id: string | null }[]): Manager =>
    Object.assign(Object.create(WatchManager.prototype) as Manager, { watchers, initialBackoff: { next: () => 1 } });

  it('drops a response for a watcher that was already cancelled instead of crashing the process', () => {
    guardWatchResponses();
    expect(() => manager([]).handleResponse({ watch_id: '7' })).not.to.throw();
  });

  it('still throws any other error from the handler', () => {
    guardWatchResponses();
    const m = manager([{ id: '7' }]);
    m.handleUpdateResponse = () => {
      throw new Error('boom');
    };
    expect(() => m.handleResponse({ watch_id: '7' })).to.throw('boom');
  });
});
