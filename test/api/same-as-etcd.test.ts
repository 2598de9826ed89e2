/**
 * "Same as real etcd": one fixed script of etcdctl commands runs against a real etcd 3.4 started
 * here (temporary data dir, free loopback ports, killed by PID afterwards) and against our API
 * layer over a FakeMember. After normalizing what must differ (cluster and member ids, raft
 * term, the endpoint, log timestamps), every command's stdout, stderr and exit code must be the
 * same, error lines included. Revisions are not normalized: both stores start at revision 1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalize, SCRIPT } from './etcdctl-script.js';
import { ETCD, ETCDCTL, etcdctl, hasEtcd, hasEtcdctl, startFake, startRealEtcd, type FakeServer, type RealEtcd } from './helpers.js';

const ready = hasEtcd && hasEtcdctl;
const title = ready ? 'api: the same as real etcd' : `api: the same as real etcd (SKIPPED: needs ${ETCD} and ${ETCDCTL})`;

describe.skipIf(!ready)(title, () => {
  let etcd: RealEtcd;
  let fake: FakeServer;

  beforeAll(async () => {
    [etcd, fake] = await Promise.all([startRealEtcd(), startFake()]);
  });
  afterAll(async () => {
    await Promise.all([etcd?.stop(), fake?.close()]);
  });

  it('prints the same for a script of etcdctl commands', async () => {
    const runScript = async (endpoint: string): Promise<string[]> => {
      const outputs: string[] = [];
      for (const step of SCRIPT) {
        const r = await etcdctl(endpoint, step.args, step.stdin);
        outputs.push(normalize(`$ etcdctl ${step.args.join(' ')}\n[exit ${r.code}]\n${r.stdout}${r.stderr}`, endpoint));
      }
      return outputs;
    };
    const [theirs, ours] = await Promise.all([runScript(etcd.endpoint), runScript(fake.endpoint)]);
    // One command at a time, so a difference names its command.
    // SHOW_ETCDCTL_OUTPUT=1 prints our side of the comparison, to see what is being compared.
    if (process.env['SHOW_ETCDCTL_OUTPUT'] !== undefined) console.log(ours.join('\n'));
    for (const [i, expected] of theirs.entries()) expect(ours[i]).toBe(expected);
  });
});
