/**
 * src/api: the etcd v3 client API of one member (gRPC and the HTTP/JSON gateway on the same
 * client ports, /health, /version). The one export list; everything else is internal.
 */
export { startApiServer, GRPC_OVERHEAD_BYTES, type ApiServer, type ApiServerOptions } from './server.js';
export { CLUSTER_VERSION, SERVER_VERSION } from './version.js';
