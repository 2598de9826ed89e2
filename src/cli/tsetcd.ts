#!/usr/bin/env node
/** tsetcd: one cluster member (see tsetcd-flags.ts for the flags). */
import { configFromArgs, exitOnFailure, serveMember } from './serve-member.js';

if (process.env['TSETCD_TEST_HOOKS'] !== undefined || process.env['TSETCD_FAILPOINTS'] !== undefined || process.env['TSETCD_BUGS'] !== undefined) {
  process.stderr.write('tsetcd: TSETCD_TEST_HOOKS, TSETCD_FAILPOINTS and TSETCD_BUGS are for the test entry point (tsetcd-test), not tsetcd\n');
  process.exit(2);
}
serveMember(configFromArgs()).catch(exitOnFailure);
