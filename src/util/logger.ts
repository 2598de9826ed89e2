/**
 * The Logger type every layer is handed. Lines are a message plus structured fields; the
 * implementation (JSON lines on stderr in the product, a capture in tests) lives at the edge.
 * Core modules never add timestamps: golden tests compare their lines.
 */
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

/** A logger that drops everything; the default where none is given. */
export const nopLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
