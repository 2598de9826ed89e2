/**
 * The etcd v3 wire API (proto/), loaded once per process. protobufjs parses the .proto files
 * into one Root (field names kept as written, so message objects use etcd's names: `range_end`,
 * `peerURLs`); the gRPC server (grpc-server.ts) and the JSON gateway both read its types and
 * decode with MESSAGE_OPTIONS, so a handler sees the same object whichever way a request came in.
 */
import protobuf from 'protobufjs';
import { protoRoot } from '../../proto/index.js';
import { assert } from '../util/index.js';

/**
 * How decoded messages look: 64-bit integers as decimal strings (lossless; converted to numbers
 * or bigints explicitly in convert.ts), bytes as Buffers, enums as numbers, every absent field
 * at its default, and a oneof's name set to its present member.
 */
export const MESSAGE_OPTIONS = {
  longs: String,
  enums: Number,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
} as const satisfies protobuf.IConversionOptions;

export interface RpcMethod {
  /** The full gRPC path, e.g. '/etcdserverpb.KV/Range'. */
  readonly path: string;
  /** 'etcdserverpb.KV' */
  readonly service: string;
  /** 'Range' */
  readonly name: string;
  readonly requestType: protobuf.Type;
  readonly responseType: protobuf.Type;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
}

export interface ApiProtos {
  readonly root: protobuf.Root;
  /** Every RPC of every service, by full gRPC path. */
  readonly methods: ReadonlyMap<string, RpcMethod>;
  /** Full service names ('etcdserverpb.KV', ..., 'v3electionpb.Election'). */
  readonly services: readonly string[];
}

let loaded: ApiProtos | undefined;

export function apiProtos(): ApiProtos {
  loaded ??= load();
  return loaded;
}

function load(): ApiProtos {
  const root = protoRoot();

  const methods = new Map<string, RpcMethod>();
  const services: string[] = [];
  const visit = (ns: protobuf.NamespaceBase): void => {
    for (const child of ns.nestedArray) {
      if (child instanceof protobuf.Service) {
        const service = child.fullName.slice(1);
        services.push(service);
        for (const m of child.methodsArray) {
          const requestType = m.resolvedRequestType;
          const responseType = m.resolvedResponseType;
          assert(requestType !== null && responseType !== null, `unresolved types in ${service}.${m.name}`);
          const rpcPath = `/${service}/${m.name}`;
          methods.set(rpcPath, {
            path: rpcPath,
            service,
            name: m.name,
            requestType,
            responseType,
            requestStream: m.requestStream === true,
            responseStream: m.responseStream === true,
          });
        }
      } else if (child instanceof protobuf.Namespace) {
        visit(child);
      }
    }
  };
  visit(root);
  return { root, methods, services };
}
