/**
 * The etcd v3 wire API (the .proto files next to this module), for src/api (the server) and
 * src/client: where the files are, and their one protobufjs Root per process (per worker
 * thread), which both sides decode and encode with. Their TypeScript types are generated into
 * proto/gen (generate.ts).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

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

let root: protobuf.Root | undefined;

/**
 * Every file of PROTO_FILES parsed into one resolved Root, once per process. Field names are
 * kept as written (`range_end`, `peerURLs`), as etcd's JSON and the generated types name them.
 */
export function protoRoot(): protobuf.Root {
  if (root === undefined) {
    const dir = protoDir();
    const r = new protobuf.Root();
    // Imports are written relative to proto/ ("mvccpb/kv.proto").
    r.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(dir, target));
    r.loadSync([...PROTO_FILES], { keepCase: true });
    r.resolveAll();
    root = r;
  }
  return root;
}
