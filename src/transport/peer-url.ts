/**
 * Peer URLs, written like etcd's (`http://10.0.0.1:2380`). The scheme picks plain TCP or TLS;
 * only the address is used, since peers do not speak HTTP here.
 */
import { TransportError } from './errors.js';

export interface PeerUrl {
  readonly scheme: 'http' | 'https';
  /** Hostname or IP, IPv6 without brackets. */
  readonly host: string;
  readonly port: number;
  /** As given, for logs. */
  readonly text: string;
}

export function parsePeerUrl(text: string): PeerUrl {
  let url: URL;
  try {
    url = new URL(text);
  } catch (err) {
    throw new TransportError('BAD_URL', `transport: cannot parse peer URL ${JSON.stringify(text)}`, { cause: err });
  }
  const scheme = url.protocol === 'http:' ? 'http' : url.protocol === 'https:' ? 'https' : undefined;
  if (scheme === undefined) throw new TransportError('BAD_URL', `transport: peer URL ${text} must be http:// or https://`);
  if (url.pathname !== '/' && url.pathname !== '') throw new TransportError('BAD_URL', `transport: peer URL ${text} must not have a path`);
  const host = url.hostname.startsWith('[') && url.hostname.endsWith(']') ? url.hostname.slice(1, -1) : url.hostname;
  if (host === '') throw new TransportError('BAD_URL', `transport: peer URL ${text} has no host`);
  // Like any URL, a missing port means the scheme's default.
  const port = url.port === '' ? (scheme === 'http' ? 80 : 443) : Number(url.port);
  return { scheme, host, port, text };
}

/** The URL for an address we listen on, e.g. after port 0 was bound. */
export function formatPeerUrl(scheme: 'http' | 'https', host: string, port: number): string {
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
