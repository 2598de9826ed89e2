#!/usr/bin/env node
/**
 * tsetcd-test: a member with the fault harness's hooks (test-hooks.ts), which jepsen-lite
 * starts. The same flags as tsetcd; the hooks are on with TSETCD_TEST_HOOKS=1, set by
 * TSETCD_FAILPOINTS, TSETCD_BUGS and TSETCD_PEER_SOURCE_ADDRESS, and the `/test/*` routes on the
 * peer port. `tsetcd` itself mounts none of this.
 */
import path from 'node:path';
import { configFromArgs, exitOnFailure, serveMember } from './serve-member.js';
import { hookedMember, TestHooks } from './test-hooks.js';

const cfg = configFromArgs();
let hooks: TestHooks | undefined;
try {
  hooks = TestHooks.fromEnv(process.env, cfg.logger);
} catch (e) {
  process.stderr.write(`tsetcd-test: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
}
const wired = hooks ? hookedMember(hooks, path.join(cfg.dataDir, 'member')) : undefined;
serveMember(cfg, wired ? { env: wired.env, strategies: wired.strategies, ...(wired.lockPolicy ? { api: { lockPolicy: wired.lockPolicy } } : {}) } : {}).catch(exitOnFailure);
