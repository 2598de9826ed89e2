/**
 * What both entry points do: parse the flags, start a member over its environment, serve the
 * client API on it, and stop on SIGINT/SIGTERM or when the member stops by itself.
 */
import { startApiServer, type ApiServerOptions } from '../api/index.js';
import type { ServerConfig } from '../server/config.js';
import type { MemberStrategies } from '../server/env.js';
import { realEnv, type RealEnvOptions } from '../server/real-env.js';
import { createMember } from '../server/v3-server.js';
import { buildCommand, resolveSettings, toConfig } from './tsetcd-flags.js';

export interface MemberWiring {
  readonly env?: RealEnvOptions;
  readonly strategies?: MemberStrategies;
  readonly api?: Pick<ApiServerOptions, 'lockPolicy'>;
}

/** Parses argv and the environment into a configuration, or exits 2 with etcd-like words. */
export function configFromArgs(): ServerConfig {
  const cmd = buildCommand();
  cmd.parse(process.argv);
  try {
    return toConfig(resolveSettings(cmd, process.env));
  } catch (e) {
    process.stderr.write(`tsetcd: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
  }
}

export async function serveMember(cfg: ServerConfig, wiring: MemberWiring = {}): Promise<void> {
  const server = createMember(cfg, realEnv(cfg.logger, wiring.env), wiring.strategies);
  await server.start();
  const api = await startApiServer(server, { listenClientUrls: [...cfg.listenClientUrls], logger: cfg.logger, ...wiring.api });
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

export function exitOnFailure(e: unknown): never {
  process.stderr.write(`tsetcd: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
}
