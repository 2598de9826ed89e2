export { assert, unreachable, AssertionError } from './assert.js';
export { Prng } from './prng.js';
export { nopLogger, type Logger, type LogFields } from './logger.js';
