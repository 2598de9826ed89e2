import { describe, expect, it } from 'vitest';
import { exportRegister } from '../../jepsen-lite/export.js';
import type { HistoryEvent } from '../../jepsen-lite/history.js';

describe('jepsen-lite export', () => {
  it('keeps only register operations and the export fields, in order', () => {
    const events: HistoryEvent[] = [
      { index: 0, time_ns: 1, process: 'nemesis', type: 'info', f: 'start-kill', value: { targets: ['n1'] } },
      { index: 1, time_ns: 2, process: 0, type: 'invoke', f: 'write', key: 'k', value: 1, node: 'n1' },
      { index: 2, time_ns: 3, process: 1, type: 'invoke', f: 'lease-grant', ttl: 2 },
      { index: 3, time_ns: 4, process: 0, type: 'ok', f: 'write', key: 'k', value: 1, revision: 5, node: 'n1' },
      { index: 4, time_ns: 5, process: 1, type: 'ok', f: 'lease-grant', lease: '7', ttl: 2 },
      { index: 5, time_ns: 6, process: 2, type: 'invoke', f: 'cas', key: 'k', value: 2, expected: 9 },
      { index: 6, time_ns: 7, process: 2, type: 'fail', f: 'cas', key: 'k', value: 2, expected: 9, error: 'cas_mismatch' },
      { index: 7, time_ns: 8, process: 3, type: 'invoke', f: 'read', key: 'k' },
      { index: 8, time_ns: 9, process: 3, type: 'ok', f: 'read', key: 'k', value: null, revision: 5 },
    ];
    expect(exportRegister(events)).toEqual([
      { process: 0, type: 'invoke', f: 'write', key: 'k', value: 1, time_ns: 2 },
      { process: 0, type: 'ok', f: 'write', key: 'k', value: 1, time_ns: 4 },
      { process: 2, type: 'invoke', f: 'cas', key: 'k', value: 2, expected: 9, time_ns: 6 },
      { process: 2, type: 'fail', f: 'cas', key: 'k', value: 2, expected: 9, error: 'cas_mismatch', time_ns: 7 },
      { process: 3, type: 'invoke', f: 'read', key: 'k', value: null, time_ns: 8 },
      { process: 3, type: 'ok', f: 'read', key: 'k', value: null, time_ns: 9 },
    ]);
  });
});
