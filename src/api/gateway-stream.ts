/**
 * The gateway's streaming RPCs (Watch, LeaseKeepAlive, Observe), as etcd 3.4's grpc-gateway
 * serves them:
 *
 * - Bidirectional (Watch, LeaseKeepAlive): the request body is a sequence of JSON messages
 *   (whitespace between them, e.g. one per line), read as they arrive. If the first cannot be
 *   decoded the call fails at once (UNKNOWN, HTTP 500, the usual error body); a later one that
 *   cannot be decoded ends the requests, as the end of the body does, and the call goes on.
 * - Server-streaming (Observe): the body is one message, decoded like a unary request's.
 * - Responses: HTTP 200, chunked, one `{"result":{...}}` per line. An error ends the body
 *   with `{"error":{"grpc_code":n,"http_code":h,"message":m,"http_status":text}}` (no newline);
 *   if nothing was written yet the HTTP status comes from the code.
 *
 * The call is aborted when the client closes the connection.
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { GrpcCode } from '../errors.js';
import type { Logger } from '../util/index.js';
import { ApiStatusError, httpStatusOf, toWireStatus, type WireStatus } from './errors.js';
import { jsonToMessage, messageToJson } from './json.js';
import type { RpcMethod } from './proto.js';
import { RequestQueue, type StreamHandler } from './stream-call.js';

export interface GatewayStreamOptions {
  readonly logger: Logger;
  /** The largest request message (a server-streaming body, or one message of a bidirectional one). */
  readonly maxMessageBytes: number;
  readonly corsHeaders: Readonly<Record<string, string>>;
  /** Reads and decodes a whole body as a unary call does (for a server-streaming call's request). */
  readonly readRequest: (req: IncomingMessage) => Promise<unknown>;
  /** Sends a unary-style error response. */
  readonly sendError: (res: ServerResponse, status: WireStatus) => void;
}

export async function serveStream(
  req: IncomingMessage,
  res: ServerResponse,
  method: RpcMethod,
  handler: StreamHandler,
  options: GatewayStreamOptions,
): Promise<void> {
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  const requests = new RequestQueue<unknown>(method.requestStream ? req : undefined);
  abort.signal.addEventListener('abort', () => requests.end(), { once: true });
  try {
    if (method.requestStream) await startBodyMessages(req, method, requests, options.maxMessageBytes);
    else {
      requests.push(await options.readRequest(req));
      requests.end();
    }
  } catch (e) {
    options.sendError(res, toWireStatus(e, options.logger, method.path));
    return;
  }
  res.setHeader('Content-Type', 'application/json');
  // grpc-gateway forwards the gRPC response's header metadata.
  res.setHeader('Grpc-Metadata-Content-Type', 'application/grpc');
  for (const [name, value] of Object.entries(options.corsHeaders)) res.setHeader(name, value);
  const write = (response: object): Promise<void> => writeLine(res, JSON.stringify({ result: messageToJson(method.responseType, response) }), abort.signal);
  try {
    await handler({ requests, write, signal: abort.signal });
  } catch (e) {
    if (!abort.signal.aborted) writeStreamError(res, toWireStatus(e, options.logger, method.path));
  }
  if (!res.destroyed) res.end();
}

function writeLine(res: ServerResponse, json: string, signal: AbortSignal): Promise<void> {
  if (signal.aborted || res.destroyed) return Promise.resolve();
  if (res.write(`${json}\n`)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    res.once('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

function writeStreamError(res: ServerResponse, status: WireStatus): void {
  const httpCode = httpStatusOf(status.code);
  if (!res.headersSent) res.statusCode = httpCode;
  const error = { grpc_code: status.code, http_code: httpCode, message: status.message, http_status: STATUS_CODES[httpCode] ?? '' };
  res.write(JSON.stringify({ error }));
}

/**
 * Feeds the body's messages into `requests` as they arrive. Resolves once the first message is
 * decoded (or the body ended without one); rejects when the first cannot be decoded.
 */
function startBodyMessages(req: IncomingMessage, method: RpcMethod, requests: RequestQueue<unknown>, maxBytes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const splitter = new JsonSequenceSplitter(maxBytes);
    let first = true;
    // After a bad message the rest of the body is read and dropped.
    let stopped = false;
    const take = (texts: string[]): void => {
      for (const text of texts) {
        if (stopped) return;
        let message: unknown;
        try {
          message = jsonToMessage(method.requestType, text).message;
        } catch (e) {
          stopped = true;
          requests.end();
          // grpc-gateway passes the decoder's error on as is: UNKNOWN.
          if (first) reject(new ApiStatusError(GrpcCode.UNKNOWN, e instanceof Error ? e.message : String(e), { cause: e }));
          return;
        }
        requests.push(message);
        if (first) resolve();
        first = false;
      }
    };
    const fail = (e: unknown): void => {
      stopped = true;
      requests.end();
      if (first) reject(e);
    };
    req.on('data', (chunk: Buffer) => {
      if (stopped) return;
      try {
        take(splitter.push(chunk));
      } catch (e) {
        fail(e);
      }
    });
    req.on('end', () => {
      if (!stopped) {
        try {
          take(splitter.end());
        } catch (e) {
          fail(e);
        }
      }
      requests.end();
      if (first) resolve();
    });
    req.on('error', fail);
  });
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/**
 * Splits a byte stream of concatenated JSON values (as Go's json.Decoder reads them) into the
 * text of each value, without parsing them. Objects and arrays end at their closing bracket,
 * strings at their closing quote, other values at whitespace or the next bracket. Structural
 * characters are ASCII, which never occurs inside a UTF-8 multi-byte sequence, so chunks may
 * split characters anywhere.
 *
 * Example: pushing `{"a":"}"} {"b"` then `:1}\n` gives `{"a":"}"}`, then `{"b":1}`.
 */
export class JsonSequenceSplitter {
  private pending: Buffer = Buffer.alloc(0);
  /** Where scanning resumes in `pending`. */
  private pos = 0;
  /** Start of the value being read in `pending`, or -1 between values. */
  private start = -1;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private scalar = false;

  constructor(private readonly maxValueBytes: number) {}

  /** The values completed by this chunk. Throws when one grows beyond the limit. */
  push(chunk: Buffer): string[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: string[] = [];
    for (; this.pos < this.pending.length; this.pos++) {
      const b = this.pending[this.pos] as number;
      if (this.start < 0) {
        if (isSpace(b)) continue;
        this.begin(b);
        if (this.scalar || this.depth > 0 || this.inString) continue;
        // A lone closing bracket: a value of its own (one the decoder will refuse).
        this.finish(out, this.pos + 1);
        continue;
      }
      if (this.step(b)) this.finish(out, this.scalar ? this.pos : this.pos + 1);
    }
    this.compact();
    if (this.start >= 0 && this.pending.length > this.maxValueBytes) {
      throw new ApiStatusError(GrpcCode.RESOURCE_EXHAUSTED, `request message larger than max (${this.pending.length} vs. ${this.maxValueBytes})`);
    }
    return out;
  }

  /** At the end of the stream: what is left, incomplete or not (the decoder reports it). */
  end(): string[] {
    if (this.start < 0) return [];
    const text = this.pending.subarray(this.start).toString('utf8');
    this.start = -1;
    this.pending = Buffer.alloc(0);
    this.pos = 0;
    return [text];
  }

  private begin(b: number): void {
    this.start = this.pos;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.scalar = false;
    if (b === OPEN_BRACE || b === OPEN_BRACKET) this.depth = 1;
    else if (b === QUOTE) this.inString = true;
    else if (b !== CLOSE_BRACE && b !== CLOSE_BRACKET) this.scalar = true;
  }

  /** Scans one byte of the current value; true when the value ended (a scalar: before it). */
  private step(b: number): boolean {
    if (this.inString) {
      if (this.escaped) this.escaped = false;
      else if (b === BACKSLASH) this.escaped = true;
      else if (b === QUOTE) {
        this.inString = false;
        return this.depth === 0;
      }
      return false;
    }
    if (this.scalar) return isSpace(b) || b === OPEN_BRACE || b === OPEN_BRACKET || b === QUOTE || b === CLOSE_BRACE || b === CLOSE_BRACKET;
    if (b === QUOTE) this.inString = true;
    else if (b === OPEN_BRACE || b === OPEN_BRACKET) this.depth++;
    else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) return --this.depth === 0;
    return false;
  }

  private finish(out: string[], end: number): void {
    out.push(this.pending.subarray(this.start, end).toString('utf8'));
    this.start = -1;
    // A scalar ends before the byte that ended it: scan that byte again as the next value's start.
    if (this.scalar) this.pos = end - 1;
    this.scalar = false;
  }

  /** Drops what was consumed, keeping the value in progress. */
  private compact(): void {
    const keepFrom = this.start >= 0 ? this.start : this.pos;
    if (keepFrom === 0) return;
    this.pending = this.pending.subarray(keepFrom);
    this.pos -= keepFrom;
    if (this.start >= 0) this.start = 0;
  }
}
