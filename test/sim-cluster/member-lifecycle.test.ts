/**
 * A member stopped while it is still starting (SIGTERM during start-up) stops: stop() resolves,
 * start() gives up with Stopped, and the data directory starts again afterwards.
 */
import { describe, expect, it } from 'vitest';
import { Cluster } from './cluster.js';
import { utf8 } from './history.js';

describe('member lifecycle (simulated time)', () => {
  it('stop() during start() resolves, start() fails with Stopped, and the member restarts later', async () => {
    const c = new Cluster({ seed: 3, initial: 1, spare: 0, net: { delayMs: 1, jitterMs: 0, lossRate: 0 }, node: { heartbeatMs: 100, electionMs: 1000, snapshotCount: 1000, snapshotCatchUpEntries: 10 }, bugs: [] });
    const n1 = c.node('n1');
    c.members.add('n1');
    const starting = n1.start(c.initialCluster(), 'new');
    const stopped = n1.server!.stop();
    await c.drive(Promise.all([starting, stopped]), 10_000);
    expect(n1.state).toBe('down');
    expect(n1.log.filter((l) => l.includes('start failed'))).toEqual([expect.stringContaining('etcdserver: server stopped')]);
    n1.crash('kill');
    await c.drive(c.restart(n1), 10_000);
    await c.runUntil(c.sched.now + 3000);
    expect(n1.server?.isLeader()).toBe(true);
    const put = await c.drive(n1.server!.put({ key: utf8('k'), value: utf8('v') }), 5000);
    expect(put.header.revision).toBe(2);
  });
});
