/**
 * Protobuf messages as JSON, the way etcd's grpc-gateway (v1, jsonpb with OrigName and without
 * EmitDefaults) writes and reads them:
 *
 * - Field names as in the .proto file (`create_revision`, `peerURLs`); on input the lowerCamel
 *   JSON name (`createRevision`) is accepted too, and unknown fields are ignored.
 * - 64-bit integers as decimal strings; on input a string or a number. Bare integers too long
 *   for a double are read exactly (quoteLongIntegers).
 * - bytes as standard base64; enums by name (numbers accepted on input).
 * - Fields at their default (0, "", false, empty bytes, empty list, absent message) left out;
 *   a message that is present but empty is `{}`. Fields come in declaration order.
 *
 * Example: a RangeResponse comes out as
 * `{"header":{"cluster_id":"1","member_id":"2","revision":"5","raft_term":"2"},
 *   "kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"2","version":"1","value":"YmFy"}],"count":"1"}`.
 */
import protobuf from 'protobufjs';
import { GrpcCode } from '../errors.js';
import { ApiStatusError } from './errors.js';
import { MESSAGE_OPTIONS } from './proto.js';

const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const INT32_TYPES = new Set(['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32']);
const UNSIGNED_TYPES = new Set(['uint32', 'fixed32', 'uint64', 'fixed64']);

// ---- output ------------------------------------------------------------------------------------

/** A response object (anything `fromObject` takes) as a JSON value in the gateway's format. */
export function messageToJson(type: protobuf.Type, object: object): Record<string, unknown> {
  return fieldsToJson(type, type.fromObject(object) as unknown as Record<string, unknown>);
}

function fieldsToJson(type: protobuf.Type, message: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    if (!Object.prototype.hasOwnProperty.call(message, field.name)) continue;
    const value = message[field.name];
    if (value === null || value === undefined) continue;
    if (field.repeated) {
      const list = value as unknown[];
      if (list.length > 0) out[field.name] = list.map((v) => valueToJson(field, v));
      continue;
    }
    // A set oneof member is written even when it is zero: its presence is the information.
    if (field.partOf === null && isDefault(field, value)) continue;
    out[field.name] = valueToJson(field, value);
  }
  return out;
}

function valueToJson(field: protobuf.Field, value: unknown): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return fieldsToJson(resolved, value as Record<string, unknown>);
  if (resolved instanceof protobuf.Enum) return resolved.valuesById[value as number] ?? value;
  if (LONG_TYPES.has(field.type)) return String(value);
  if (field.type === 'bytes') {
    const bytes = value as Uint8Array;
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  }
  return value;
}

function isDefault(field: protobuf.Field, value: unknown): boolean {
  if (field.resolvedType instanceof protobuf.Type) return false;
  if (field.type === 'bytes') return (value as Uint8Array).length === 0;
  if (LONG_TYPES.has(field.type)) return String(value) === '0';
  return value === 0 || value === '' || value === false;
}

// ---- input -------------------------------------------------------------------------------------

export interface DecodedRequest {
  /** The message in MESSAGE_OPTIONS shape, as the gRPC path would have decoded it. */
  readonly message: unknown;
  /** Bytes of the message encoded as protobuf. */
  readonly encodedBytes: number;
}

/** Parses a request body (empty means the empty message). Errors are INVALID_ARGUMENT. */
export function jsonToMessage(type: protobuf.Type, body: string): DecodedRequest {
  let json: unknown = {};
  if (body.trim() !== '') {
    try {
      json = JSON.parse(quoteLongIntegers(body));
    } catch (e) {
      throw invalid((e as Error).message, e);
    }
  }
  const plain = normalizeMessage(type, json, type.name);
  let message: protobuf.Message;
  try {
    message = type.fromObject(plain);
  } catch (e) {
    throw invalid((e as Error).message, e);
  }
  return {
    message: type.toObject(message, MESSAGE_OPTIONS),
    encodedBytes: type.encode(message).finish().length,
  };
}

function invalid(message: string, cause?: unknown): ApiStatusError {
  return new ApiStatusError(GrpcCode.INVALID_ARGUMENT, message, { cause });
}

/** protoc's JSON name: the letter after each underscore upper-cased, the underscores dropped. */
export function jsonName(protoName: string): string {
  return protoName.replace(/_(.)/g, (_m, c: string) => c.toUpperCase());
}

const fieldLookups = new WeakMap<protobuf.Type, Map<string, protobuf.Field>>();

function fieldByJsonKey(type: protobuf.Type, key: string): protobuf.Field | undefined {
  let lookup = fieldLookups.get(type);
  if (lookup === undefined) {
    lookup = new Map();
    for (const f of type.fieldsArray) {
      lookup.set(jsonName(f.name), f);
      lookup.set(f.name, f);
    }
    fieldLookups.set(type, lookup);
  }
  return lookup.get(key);
}

/** JSON in jsonpb's format → an object `fromObject` takes, checking each value's type. */
function normalizeMessage(type: protobuf.Type, json: unknown, where: string): Record<string, unknown> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw invalid(`json: cannot unmarshal ${kindOf(json)} into a ${type.fullName.slice(1)} message (${where})`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) {
    const field = fieldByJsonKey(type, key);
    if (field === undefined || value === null) continue;
    const at = `${where}.${field.name}`;
    if (field.repeated) {
      if (!Array.isArray(value)) throw invalid(`json: cannot unmarshal ${kindOf(value)} into a list (${at})`);
      out[field.name] = value.map((v, i) => normalizeValue(field, v, `${at}[${i}]`));
    } else {
      out[field.name] = normalizeValue(field, value, at);
    }
  }
  return out;
}

function normalizeValue(field: protobuf.Field, value: unknown, at: string): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return normalizeMessage(resolved, value, at);
  if (resolved instanceof protobuf.Enum) {
    if (typeof value === 'string') {
      const n = resolved.values[value];
      if (n === undefined) throw invalid(`unknown value ${JSON.stringify(value)} for enum ${resolved.fullName.slice(1)} (${at})`);
      return n;
    }
    if (typeof value === 'number' && Number.isInteger(value)) return value;
    throw invalid(`json: cannot unmarshal ${kindOf(value)} into enum ${resolved.fullName.slice(1)} (${at})`);
  }
  if (LONG_TYPES.has(field.type) || INT32_TYPES.has(field.type)) return integerOf(field, value, at);
  switch (field.type) {
    case 'bytes':
      if (typeof value !== 'string') throw invalid(`json: cannot unmarshal ${kindOf(value)} into bytes (${at})`);
      return base64Of(value);
    case 'string':
      if (typeof value !== 'string') throw invalid(`json: cannot unmarshal ${kindOf(value)} into string (${at})`);
      return value;
    case 'bool':
      if (typeof value !== 'boolean') throw invalid(`json: cannot unmarshal ${kindOf(value)} into bool (${at})`);
      return value;
    case 'double':
    case 'float':
      if (typeof value !== 'number') throw invalid(`json: cannot unmarshal ${kindOf(value)} into ${field.type} (${at})`);
      return value;
    default:
      throw invalid(`unsupported field type ${field.type} (${at})`);
  }
}

const INTEGER = /^-?[0-9]+$/;

/** An integer field's value as a decimal string, range-checked (protobufjs would wrap silently). */
function integerOf(field: protobuf.Field, value: unknown, at: string): string {
  let text: string;
  if (typeof value === 'number' && Number.isInteger(value)) text = String(value);
  else if (typeof value === 'string' && INTEGER.test(value)) text = value;
  else throw invalid(`json: cannot unmarshal ${JSON.stringify(value)} into ${field.type} (${at})`);
  const n = BigInt(text);
  const bits = LONG_TYPES.has(field.type) ? 64n : 32n;
  const [min, max] = UNSIGNED_TYPES.has(field.type) ? [0n, (1n << bits) - 1n] : [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n];
  if (n < min || n > max) throw invalid(`json: ${text} overflows ${field.type} (${at})`);
  return text;
}

const BASE64 = /^[A-Za-z0-9+/\-_]*={0,2}$/;

/** Standard base64 (URL-safe accepted too), as Go's decoder reports a bad byte. */
function base64Of(text: string): Buffer {
  if (!BASE64.test(text)) {
    const bad = [...text].findIndex((c) => !/[A-Za-z0-9+/\-_=]/.test(c));
    throw invalid(`illegal base64 data at input byte ${bad < 0 ? text.indexOf('=') : bad}`);
  }
  return Buffer.from(text, 'base64');
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value === 'object' ? 'object' : typeof value;
}

const NUMBER = /-?([0-9]+)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

/**
 * Puts quotes around bare integers with more than 15 digits outside strings, so JSON.parse keeps
 * them exact (a uint64 member id sent as a number would otherwise be rounded to a double).
 * One pass over the text; malformed JSON is left for JSON.parse to report.
 */
export function quoteLongIntegers(text: string): string {
  let out = '';
  let copied = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      continue;
    }
    if (c !== '-' && (c < '0' || c > '9')) continue;
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m === null) continue;
    const end = i + m[0].length;
    if (m[2] === undefined && m[3] === undefined && (m[1] as string).length > 15) {
      out += `${text.slice(copied, i)}"${m[0]}"`;
      copied = end;
    }
    i = end - 1;
  }
  return out + text.slice(copied);
}
