import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Prng } from '../../../src/util/prng.js';
import { LinkFaultNet, PeerProxy } from '../../../jepsen-lite/proxy.js';

/** A target that records what it receives per connection and echoes it back. */
async function echoServer(): Promise<{ server: net.Server; port: number; received: () => string }> {
  let got = '';
  const server = net.createServer((s) => {
    s.on('data', (d: Buffer) => {
      got += d.toString();
      s.write(d);
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address() as net.AddressInfo;
  return { server, port: addr.port, received: () => got };
}

function dial(port: number, localAddress: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress }, () => resolve(s));
    s.once('error', reject);
  });
}

function collect(s: net.Socket): { text: () => string; closed: () => boolean } {
  let text = '';
  let closed = false;
  s.on('data', (d: Buffer) => (text += d.toString()));
  s.on('close', () => (closed = true));
  s.on('error', () => undefined);
  return { text: () => text, closed: () => closed };
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
}

const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const SOURCES = new Map([
  ['127.0.0.11', 'n1'],
  ['127.0.0.12', 'n2'],
]);

describe('PeerProxy', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  async function setup(): Promise<{ proxy: PeerProxy; received: () => string; links: LinkFaultNet }> {
    const target = await echoServer();
    cleanup.push(() => new Promise<void>((r) => target.server.close(() => r())));
    // n2's proxy in front of the target; n1's proxy exists only so LinkFaultNet knows the link.
    const proxy = new PeerProxy('n2', { host: '127.0.0.1', port: target.port }, SOURCES, new Prng(1));
    const other = new PeerProxy('n1', { host: '127.0.0.1', port: 1 }, SOURCES, new Prng(2));
    await proxy.listen();
    await other.listen();
    cleanup.push(() => proxy.close(), () => other.close());
    const links = new LinkFaultNet(
      new Map([
        ['n1', other],
        ['n2', proxy],
      ]),
    );
    return { proxy, received: target.received, links };
  }

  it('forwards both ways when healthy', async () => {
    const { proxy, received } = await setup();
    const s = await dial(proxy.port, '127.0.0.11');
    cleanup.push(() => void s.destroy());
    const c = collect(s);
    s.write('hello');
    await until(() => c.text() === 'hello');
    expect(received()).toBe('hello');
    expect(proxy.connections()).toEqual([{ from: 'n1', held: false }]);
  });

  it('cut blackholes an existing connection without closing it; heal closes it; new connections pass', async () => {
    const { proxy, received, links } = await setup();
    const s = await dial(proxy.port, '127.0.0.11');
    const c = collect(s);
    s.write('a');
    await until(() => c.text() === 'a');
    links.cut('n1', 'n2');
    s.write('b');
    await wait(150);
    expect(received()).toBe('a');
    expect(c.closed()).toBe(false);
    // A new connection over the cut link is accepted but held.
    const held = await dial(proxy.port, '127.0.0.11');
    const h = collect(held);
    held.write('x');
    await wait(100);
    expect(received()).toBe('a');
    expect(h.closed()).toBe(false);
    expect(proxy.connections().filter((x) => x.held)).toHaveLength(1);
    // An unknown source (the harness) passes even while n1 -> n2 is cut.
    const harness = await dial(proxy.port, '127.0.0.1');
    const hc = collect(harness);
    harness.write('h');
    await until(() => hc.text() === 'h');
    harness.destroy();
    links.heal();
    await until(() => c.closed() && h.closed());
    const s2 = await dial(proxy.port, '127.0.0.11');
    const c2 = collect(s2);
    s2.write('c');
    await until(() => c2.text() === 'c');
    s2.destroy();
    expect(received()).toBe('ahc');
  });

  it('a one-way cut n2 -> n1 blackholes only the replies to n1', async () => {
    const { proxy, received, links } = await setup();
    const s = await dial(proxy.port, '127.0.0.11');
    const c = collect(s);
    links.cut('n2', 'n1');
    s.write('q');
    await until(() => received() === 'q');
    await wait(100);
    expect(c.text()).toBe('');
    s.destroy();
  });

  it('delay holds each chunk base ± jitter and keeps order', async () => {
    const { proxy, received, links } = await setup();
    links.delay('n1', 'n2', 150, 50);
    const s = await dial(proxy.port, '127.0.0.11');
    cleanup.push(() => void s.destroy());
    const t0 = Date.now();
    for (let i = 0; i < 20; i++) {
      s.write(`${i},`);
      await wait(2);
    }
    await wait(60);
    expect(received()).toBe('');
    await until(() => received().split(',').length === 21, 3000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
    expect(received()).toBe(Array.from({ length: 20 }, (_, i) => `${i},`).join(''));
    // The reverse direction (n2 -> n1) is not delayed beyond the forward delay.
  });

  it('drop stalls lost chunks for a retransmission timeout, in order, losing nothing', async () => {
    const { proxy, received, links } = await setup();
    links.drop('n1', 'n2', 1);
    const s = await dial(proxy.port, '127.0.0.11');
    cleanup.push(() => void s.destroy());
    const t0 = Date.now();
    s.write('1');
    await wait(20);
    s.write('2');
    await until(() => received() === '12', 3000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
  });
});
