import { describe, expect, it } from 'vitest';
import { AssertionError, assert, unreachable } from '../../src/util/assert.js';

describe('assert', () => {
  it('passes on truthy conditions and throws AssertionError with the message otherwise', () => {
    expect(() => assert(true)).not.toThrow();
    expect(() => assert(1, 'unused')).not.toThrow();
    expect(() => assert(false, 'applied <= committed')).toThrow(new AssertionError('applied <= committed'));
    expect(() => assert(0)).toThrow(AssertionError);
    try {
      assert(null, 'x');
    } catch (err) {
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).name).toBe('AssertionError');
    }
  });

  it('unreachable() always throws and names the value', () => {
    expect(() => unreachable('surprise' as never, 'bad state')).toThrow('bad state: surprise');
  });
});
