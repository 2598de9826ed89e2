/**
 * Requests one member makes to another's peer port over HTTP/1.1 (forwarded promotions, lease
 * keep-alives and TTLs). One keep-alive agent per member, so a follower forwarding many
 * keep-alives reuses its connections; `localAddress` makes them leave from the same source
 * address as the raft traffic (see boundTcpNetwork).
 */
import http from 'node:http';

export class PeerClient {
  private readonly agent: http.Agent;

  constructor(private readonly localAddress: string | undefined) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  }

  /** Resolves with the status and the parsed JSON body (or {} when it is not JSON). */
  request(base: string, method: 'GET' | 'POST', pathAndQuery: string, timeoutMs: number): Promise<{ status: number; body: unknown }> {
    const url = new URL(pathAndQuery, base);
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: `${url.pathname}${url.search}`,
          method,
          agent: this.agent,
          timeout: timeoutMs,
          ...(this.localAddress !== undefined ? { localAddress: this.localAddress } : {}),
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => {
            let body: unknown = {};
            try {
              body = JSON.parse(text);
            } catch {
              // not JSON: an empty body
            }
            resolve({ status: res.statusCode ?? 0, body });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer from ${base} within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
