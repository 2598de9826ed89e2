// The transport's public surface: the Transport, its options and stats, the network seam, errors.
export { Transport, type TransportDeps } from './transport.js';
export { TransportError, type TransportErrorCode } from './errors.js';
export { boundTcpNetwork, tcpNetwork, type Network, type Listener } from './network.js';
export { parsePeerUrl, type PeerUrl } from './peer-url.js';
export { DEFAULT_QUEUE_LIMIT, DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_BATCH_BYTES } from './config.js';
export { CodecError, PROTOCOL_VERSION } from './codec.js';
export type { ListenAddress, MessageCodec, PeerMessage, PeerStats, SnapshotInfo, TransportOptions, TransportStats } from './types.js';
