import { describe, expect, it } from 'vitest';
import { checkHealth } from '../../../jepsen-lite/checkers/health.js';

const clean = '{"msg":"ready"}\n{"msg":"became leader","term":2}\n';

describe('health checks', () => {
  it('pass clean logs, expected exits and a good final phase', () => {
    const r = checkHealth({ nodes: [{ node: 'n1', log: clean, exits: [{ code: null, signal: 'SIGKILL', expected: true }] }], finalPhase: { ok: true } });
    expect(r.valid).toBe(true);
  });

  it('report a panic line, an assertion failure and a failed ready loop', () => {
    const log = `${clean}panic: index out of range\n    at foo\n${'x\n'.repeat(10)}AssertionError: applied <= committed\n${'y\n'.repeat(10)}{"msg":"ready loop failed","err":"EIO"}\n`;
    const r = checkHealth({ nodes: [{ node: 'n2', log }] });
    expect(r.anomalies.map((a) => a.type)).toEqual(['panic', 'assertion-failure', 'ready-loop-failed']);
    expect(r.anomalies[0]!.details).toMatchObject({ node: 'n2', line: 3 });
  });

  it('excuse a panic (and the exit) caused by a fired failpoint', () => {
    const log = `${clean}{"msg":"failpoint fired","name":"beforeApply","action":"panic"}\npanic: failpoint beforeApply\n`;
    const exits = [{ code: 1, signal: null, expected: false }];
    expect(checkHealth({ nodes: [{ node: 'n1', log, exits }], firedFailpoints: [{ node: 'n1', name: 'beforeApply' }] }).valid).toBe(true);
    // The same failpoint fired on another node does not excuse n1.
    const r = checkHealth({ nodes: [{ node: 'n1', log, exits }], firedFailpoints: [{ node: 'n3', name: 'beforeApply' }] });
    expect(r.anomalies.map((a) => a.type).sort()).toEqual(['panic', 'unexpected-exit']);
  });

  it('report an unexpected exit and a failed final phase', () => {
    const r = checkHealth({ nodes: [{ node: 'n1', log: clean, exits: [{ code: 0, signal: null, expected: false }] }], finalPhase: { ok: false, message: 'no leader within 10 s' } });
    expect(r.anomalies.map((a) => a.type)).toEqual(['unexpected-exit', 'final-phase-failed']);
  });
});

describe('health of a member whose disk was damaged on purpose', () => {
  it('excuses its crash lines, and only its own', () => {
    const log = 'started\nAssertionError: tocommit(516) is out of range [lastIndex(54)]\n';
    const input = { nodes: [{ node: 'n3', log }, { node: 'n1', log }], damagedNodes: ['n3'] };
    const r = checkHealth(input);
    expect(r.anomalies.map((a) => (a.details as { node?: string } | undefined)?.node)).toEqual(['n1']);
  });
});
