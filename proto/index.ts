/**
 * Where the etcd v3 wire API (the .proto files next to this module) lives, for src/api (the
 * server) and src/client. The files are data, not code: callers load them with protobufjs or
 * @grpc/proto-loader, with this directory as the include path.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Every file of the API, relative to protoDir(); imports between them are relative to it too. */
export const PROTO_FILES = [
  'mvccpb/kv.proto',
  'authpb/auth.proto',
  'etcdserverpb/rpc.proto',
  'v3lockpb/v3lock.proto',
  'v3electionpb/v3election.proto',
] as const;

const MARKER = path.join('proto', 'etcdserverpb', 'rpc.proto');

/**
 * The directory holding PROTO_FILES. This module runs from proto/ (tsx, vitest) or from
 * dist/proto/ (a tsc build, which does not copy .proto files), so look for proto/ in the
 * enclosing directories rather than assuming one layout.
 */
export function protoDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  // Bounded: the repository root is at most a few levels above dist/proto.
  for (let up = 0; up < 4; up++) {
    const parent = path.dirname(dir);
    if (existsSync(path.join(parent, MARKER))) return path.join(parent, 'proto');
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`cannot find ${MARKER} above ${fileURLToPath(import.meta.url)}`);
}
