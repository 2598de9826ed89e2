/**
 * The streaming RPCs, written once against StreamCall (stream-call.ts) and served by both the
 * gRPC services and the JSON gateway:
 *
 * - Watch: requests become create/cancel/progress on one MemberWatchStream, and its responses
 *   are written as they come. As in etcd (api/v3rpc/watch.go), a client that half-closes keeps
 *   its watchers: the call lives until the client goes away. A request with nothing set is
 *   ignored, as etcd does.
 * - LeaseKeepAlive: one renewal per request, answered in request order; an error (e.g. no
 *   leader) ends the call with its status. A lease that is gone is answered with TTL 0.
 * - Observe: the election's leader each time it changes (src/server/election.ts).
 */
import { observe } from '../server/election.js';
import type { MemberService, MemberWatchStream } from '../server/service.js';
import { headerOut, idIn, int64IdOut, int64In, int64Out, kvOut, watchCreateIn, watchResultOut } from './convert.js';
import type { StreamCall, StreamHandler } from './stream-call.js';
import type { LeaderRequestMsg, LeaseIdRequestMsg, WatchRequestMsg } from './wire.js';

/** The streaming handlers by full gRPC path. */
export function createStreamHandlers(service: MemberService): ReadonlyMap<string, StreamHandler> {
  return new Map<string, StreamHandler>([
    ['/etcdserverpb.Watch/Watch', (call) => serveWatch(service, call)],
    ['/etcdserverpb.Lease/LeaseKeepAlive', (call) => serveKeepAlive(service, call)],
    ['/v3electionpb.Election/Observe', (call) => serveObserve(service, call)],
  ]);
}

async function serveWatch(service: MemberService, call: StreamCall): Promise<void> {
  const stream = service.watch();
  const close = (): void => stream.close();
  call.signal.addEventListener('abort', close, { once: true });
  if (call.signal.aborted) close();
  // Requests are taken beside the responses; a failure there (a bug below) ends the call.
  let failure: { error: unknown } | undefined;
  void takeWatchRequests(call.requests, stream).catch((error: unknown) => {
    failure = { error };
    close();
  });
  try {
    for (;;) {
      const r = await stream.next();
      if (r === undefined) break;
      await call.write(watchResultOut(r));
    }
  } finally {
    call.signal.removeEventListener('abort', close);
    close();
  }
  if (failure !== undefined) throw failure.error;
}

async function takeWatchRequests(requests: AsyncIterable<unknown>, stream: MemberWatchStream): Promise<void> {
  for await (const m of requests as AsyncIterable<WatchRequestMsg>) applyWatchRequest(m, stream);
}

function applyWatchRequest(m: WatchRequestMsg, stream: MemberWatchStream): void {
  switch (m.request_union) {
    case 'create_request':
      if (m.create_request) stream.create(watchCreateIn(m.create_request));
      return;
    case 'cancel_request':
      if (m.cancel_request) stream.cancel(int64In(m.cancel_request.watch_id));
      return;
    case 'progress_request':
      stream.requestProgress();
      return;
    default:
    // Nothing set: etcd ignores it rather than ending the stream.
  }
}

async function serveKeepAlive(service: MemberService, call: StreamCall): Promise<void> {
  for await (const m of call.requests as AsyncIterable<LeaseIdRequestMsg>) {
    if (call.signal.aborted) return;
    const r = await service.leaseKeepAlive(idIn(m.ID));
    await call.write({ header: headerOut(r.header), ID: int64IdOut(r.id), TTL: int64Out(r.ttl) });
  }
}

async function serveObserve(service: MemberService, call: StreamCall): Promise<void> {
  for await (const m of call.requests as AsyncIterable<LeaderRequestMsg>) {
    await observe(service, m.name, call.signal, (r) => call.write({ header: headerOut(r.header), kv: kvOut(r.kv) }));
    return;
  }
}
