/**
 * Peer transport throughput on loopback: one member streams raft-shaped messages with a
 * 256-byte payload to another, both in this process (one event loop does the encoding, the
 * framing, the decoding and the delivery, so this is a lower bound for two processes).
 *
 * Each row sends bursts of `burst` messages per event-loop turn, keeping at most `window`
 * messages in flight (sent and not yet delivered), below the per-peer queue limit so nothing is
 * dropped. Reported: messages/s, payload MB/s, frames/s and messages per frame (the batching),
 * and drops (must be 0).
 *
 * Run: npx tsx bench/transport.ts   (BENCH_MS=<ms per row>, default 3000)
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Transport, type PeerMessage } from '../src/transport/index.js';

const PAYLOAD_BYTES = 256;
const RUN_MS = Number(process.env['BENCH_MS'] ?? 3000);
const WARMUP_MS = Math.min(500, RUN_MS / 4);
const ROWS: { burst: number; window: number }[] = [
  { burst: 1, window: 1 },
  { burst: 1, window: 64 },
  { burst: 16, window: 1024 },
  { burst: 256, window: 2048 },
  { burst: 1024, window: 3072 },
];

interface Row {
  name: string;
  msgsPerSec: number;
  mbPerSec: number;
  framesPerSec: number;
  msgsPerFrame: number;
  drops: number;
}

function message(index: number, payload: Uint8Array): PeerMessage & Record<string, unknown> {
  return { type: 'MsgApp', to: 2n, from: 1n, term: 5, logTerm: 5, index, commit: index - 1, entries: [{ term: 5, index: index + 1, type: 0, data: payload }] };
}

async function runRow(burst: number, window: number): Promise<Row> {
  let delivered = 0;
  let wake: (() => void) | undefined;
  const b = new Transport({
    id: 2n,
    clusterId: 1n,
    listenPeerUrls: ['http://127.0.0.1:0'],
    onMessages: (msgs) => {
      delivered += msgs.length;
      const w = wake;
      wake = undefined;
      w?.();
    },
    onSnapshot: async () => {},
    onUnreachable: () => {},
  });
  const a = new Transport({
    id: 1n,
    clusterId: 1n,
    listenPeerUrls: ['http://127.0.0.1:0'],
    onMessages: () => {},
    onSnapshot: async () => {},
    onUnreachable: () => {},
  });
  const [bAddr] = await b.start();
  const [aAddr] = await a.start();
  b.addPeer(1n, [aAddr!.url]);
  a.addPeer(2n, [bAddr!.url]);
  for (let i = 0; i < 1000 && !a.isActive(2n); i++) await new Promise((r) => setTimeout(r, 5));

  const payload = new Uint8Array(PAYLOAD_BYTES).fill(7);
  let sent = 0;
  const runFor = async (ms: number): Promise<void> => {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      if (sent - delivered + burst > window) {
        await new Promise<void>((r) => (wake = r));
        continue;
      }
      const batch: PeerMessage[] = [];
      for (let i = 0; i < burst; i++) batch.push(message(sent + i + 1, payload));
      a.send(batch);
      sent += burst;
      // Let the flush and the socket run: a real server sends once per Ready.
      if (sent - delivered + burst > window) continue;
      await new Promise((r) => setImmediate(r));
    }
  };
  await runFor(WARMUP_MS);
  const s0 = a.stats().peers.get(2n)!;
  const d0 = delivered;
  const t0 = performance.now();
  await runFor(RUN_MS);
  const seconds = (performance.now() - t0) / 1000;
  const s1 = a.stats().peers.get(2n)!;
  const msgs = delivered - d0;
  const frames = s1.framesSent - s0.framesSent;
  await a.stop();
  await b.stop();
  return {
    name: `burst ${burst}, window ${window}`,
    msgsPerSec: msgs / seconds,
    mbPerSec: (msgs * PAYLOAD_BYTES) / seconds / 1e6,
    framesPerSec: frames / seconds,
    msgsPerFrame: (s1.messagesSent - s0.messagesSent) / Math.max(1, frames),
    drops: s1.drops,
  };
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

async function main(): Promise<void> {
  console.log(`transport bench: ${PAYLOAD_BYTES}-byte payloads, ${RUN_MS} ms per row, one process (node ${process.version}, ${os.cpus().length} CPUs)`);
  const rows: Row[] = [];
  for (const r of ROWS) rows.push(await runRow(r.burst, r.window));
  const header = ['', 'msgs/s', 'payload MB/s', 'frames/s', 'msgs/frame', 'drops'];
  const lines = rows.map((r) => [r.name, fmt(r.msgsPerSec), fmt(r.mbPerSec, 1), fmt(r.framesPerSec), fmt(r.msgsPerFrame, 1), fmt(r.drops)]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  const row = (cells: string[]): string => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ')} |`;
  console.log(row(header));
  console.log(`|${widths.map((w, i) => (i === 0 ? ':' + '-'.repeat(w + 1) : '-'.repeat(w + 1) + ':')).join('|')}|`);
  for (const l of lines) console.log(row(l));
}

await main();
