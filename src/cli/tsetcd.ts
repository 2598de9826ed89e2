#!/usr/bin/env node
/** tsetcd: one cluster member (see tsetcd-flags.ts for the flags). */
import { startApiServer } from '../api/index.js';
import type { ServerConfig } from '../server/config.js';
import { EtcdServer } from '../server/member.js';
import { TestHooks } from '../server/test-hooks.js';
import { buildCommand, resolveSettings, toConfig } from './tsetcd-flags.js';

async function main(): Promise<void> {
  const cmd = buildCommand();
  cmd.parse(process.argv);
  let cfg: ServerConfig;
  try {
    const base = toConfig(resolveSettings(cmd, process.env));
    const testHooks = TestHooks.fromEnv(process.env, base.logger);
    cfg = testHooks ? { ...base, testHooks } : base;
  } catch (e) {
    process.stderr.write(`tsetcd: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
  }
  const server = new EtcdServer(cfg);
  await server.start();
  const api = await startApiServer(server, { listenClientUrls: [...cfg.listenClientUrls], logger: cfg.logger });
  cfg.logger.info('serving client traffic', { urls: cfg.listenClientUrls });
  const shutdown = (signal: string): void => {
    cfg.logger.info('received signal; shutting down', { signal });
    void api
      .close()
      .then(() => server.stop())
      .then(() => process.exit(0));
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  await server.whenStopped();
  if (server.stopReason) {
    cfg.logger.warn('member stopped', { reason: server.stopReason });
    await api.close();
    process.exit(server.stopReason.startsWith('fatal') ? 1 : 0);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`tsetcd: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
