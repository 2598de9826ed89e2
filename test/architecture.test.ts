/**
 * Fails the build on an import that DESIGN.md's module table does not allow, and on clocks,
 * timers or randomness in the deterministic core. The rules are data in
 * test/architecture/check-imports.ts; the self-tests below run the same checker over in-memory
 * fixtures, so a checker that has quietly stopped matching anything fails too.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  FORBIDDEN_NONDETERMINISM,
  MODULE_ORDER,
  MODULE_RULES,
  checkFile,
  checkFiles,
  findImports,
  formatViolations,
  moduleOfPath,
  readSourceFiles,
  resolveImport,
  stripSource,
  type SourceFile,
} from './architecture/check-imports.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

function violationsOf(path: string, text: string): string[] {
  return checkFile({ path, text }).map((v) => `${v.line}: ${v.message}`);
}

describe('architecture: the real source tree', () => {
  const files = readSourceFiles(repoRoot, 'src');

  it('finds the source files', () => {
    expect(files.length).toBeGreaterThan(0);
    expect(files.map((f) => f.path)).toContain('src/util/prng.ts');
  });

  it('has no import that DESIGN.md does not allow, and no clock or randomness in the pure core', () => {
    const violations = checkFiles(files);
    expect(formatViolations(violations), 'disallowed imports (see DESIGN.md "Modules and who may import whom")').toBe('');
  });
});

describe('architecture: the rules table', () => {
  it('has a rule for every module, and dependencies point one way (up the table)', () => {
    expect(Object.keys(MODULE_RULES).sort()).toEqual([...MODULE_ORDER].sort());
    for (const [index, id] of MODULE_ORDER.entries()) {
      for (const target of MODULE_RULES[id].imports) {
        if (target === 'proto') continue;
        expect(MODULE_ORDER.indexOf(target), `${id} -> ${target}`).toBeLessThan(index);
      }
    }
  });

  it('encodes the table of DESIGN.md', () => {
    const r = MODULE_RULES;
    expect(r['src/util'].imports).toEqual([]);
    expect(r['src/errors.ts'].imports).toEqual([]);
    expect(r['src/raft'].imports).toEqual(['src/util']);
    expect(r['src/wal'].imports).toEqual(['src/util']);
    expect([...r['src/mvcc'].imports].sort()).toEqual(['src/errors.ts', 'src/util']);
    for (const m of ['src/lease', 'src/auth', 'src/watch'] as const) {
      expect([...r[m].imports].sort()).toEqual(['src/errors.ts', 'src/mvcc', 'src/util']);
    }
    expect(r['src/transport'].imports).toEqual(['src/util']);
    expect(r['src/server'].imports).not.toContain('src/api');
    expect([...r['src/api'].imports].sort()).toEqual(['proto', 'src/errors.ts', 'src/server', 'src/util']);
    expect([...r['src/client'].imports].sort()).toEqual(['proto', 'src/errors.ts', 'src/util']);
    for (const pure of ['src/raft', 'src/mvcc'] as const) {
      expect(r[pure].deterministic).toBe(true);
      expect(r[pure].builtins).toEqual([]);
    }
    expect(r['src/raft'].packages).toEqual([]);
  });
});

describe('architecture: the checker finds violations (self-test)', () => {
  it('flags a node builtin in raft, with or without the node: prefix', () => {
    expect(violationsOf('src/raft/log.ts', "import { readFileSync } from 'node:fs';\n")).toEqual([
      "1: src/raft may not import the Node builtin 'fs' ('node:fs'); allowed: nothing",
    ]);
    expect(violationsOf('src/raft/log.ts', "\n\nimport * as timers from 'timers';\n")).toHaveLength(1);
    // Both the builtin and the timer it brings in are reported.
    expect(violationsOf('src/raft/log.ts', "import { setTimeout } from 'node:timers/promises';")).toEqual([
      "1: src/raft may not import the Node builtin 'timers' ('node:timers/promises'); allowed: nothing",
      '1: src/raft is deterministic and may not use setTimeout: time and randomness are injected (ticks, a Clock, a seeded Prng)',
    ]);
    expect(violationsOf('src/mvcc/kv.ts', "import crypto from 'crypto';")).toHaveLength(1);
  });

  it('flags clocks, timers and randomness in raft and mvcc', () => {
    const src = [
      'export function electionTimeout(): number {',
      '  return Date.now() + Math.floor(Math.random() * 10);',
      '}',
      'const t = setTimeout(() => {}, 10);',
      'const started = new Date();',
      'const s = Date();',
      'const p = performance.now();',
      'const h = process.hrtime.bigint();',
      'queueMicrotask(() => {}); setImmediate(() => {}); setInterval(() => {}, 1);',
      'globalThis.setTimeout(() => {}, 1);',
      'const id = crypto.randomUUID();',
      'const later = `${Date.now()}`;',
    ].join('\n');
    const found = violationsOf('src/raft/raft.ts', src);
    expect(found.length).toBe(13);
    expect(found[0]).toBe(
      '2: src/raft is deterministic and may not use Date.now: time and randomness are injected (ticks, a Clock, a seeded Prng)',
    );
    expect(found.some((v) => v.startsWith('2:') && v.includes('Math.random'))).toBe(true);
    expect(found.some((v) => v.startsWith('12:') && v.includes('Date.now'))).toBe(true);
    expect(violationsOf('src/mvcc/compact.ts', 'const now = Date.now();')).toHaveLength(1);
    expect(violationsOf('src/util/id.ts', 'export const r = Math.random();')).toHaveLength(1);
    // Not pure: lease gets an injected clock, but may still schedule with timers at the edge.
    expect(violationsOf('src/lease/lessor.ts', 'const now = Date.now();')).toEqual([]);
  });

  it('flags an import of a layer the table does not allow', () => {
    expect(violationsOf('src/raft/raft.ts', "import { Server } from '../server/x.js';")).toEqual([
      "1: src/raft may not import src/server ('../server/x.js'); it may import: src/util",
    ]);
    expect(violationsOf('src/mvcc/kv.ts', "import type { Lessor } from '../lease/lessor.js';")).toHaveLength(1);
    expect(violationsOf('src/lease/lessor.ts', "import { Auth } from '../auth/store.js';")).toHaveLength(1);
    expect(violationsOf('src/api/grpc/kv.ts', "import { KV } from '../../mvcc/kv.js';")).toHaveLength(1);
    expect(violationsOf('src/client/client.ts', "import { x } from '../server/server.js';")).toHaveLength(1);
    expect(violationsOf('src/util/bytes.ts', "import { ErrCompacted } from '../errors.js';")).toHaveLength(1);
    expect(violationsOf('src/errors.ts', "import { assert } from './util/assert.js';")).toHaveLength(1);
    expect(violationsOf('src/server/server.ts', "import { grpc } from '../api/grpc/server.js';")).toHaveLength(1);
  });

  it('sees export-from, side-effect, dynamic and require imports, and multi-line clauses', () => {
    const src = [
      "export { Server } from '../server/server.js';",
      "export * from '../wal/wal.js';",
      "import '../transport/peer.js';",
      "const m = await import('../api/http.js');",
      "const n = await import(`../cli/main.js`);",
      'const o = await import(someVariable);',
      "const fs = require('node:fs');",
      'import {',
      '  a,',
      '  type B,',
      "} from '../mvcc/kv.js';",
    ].join('\n');
    const found = violationsOf('src/raft/index.ts', src);
    expect(found.map((v) => v.split(':')[0])).toEqual(['1', '2', '3', '4', '5', '6', '7', '8']);
    expect(found[5]).toContain('not a string literal');
  });

  it('flags packages a layer may not use', () => {
    expect(violationsOf('src/raft/raft.ts', "import { Packr } from 'msgpackr';")).toHaveLength(1);
    expect(violationsOf('src/mvcc/kv.ts', "import { ClassicLevel } from 'classic-level';")).toEqual([
      "1: src/mvcc may not import the package 'classic-level' except with `import type` ('classic-level')",
    ]);
    expect(violationsOf('src/mvcc/kv.ts', "import { Counter } from 'prom-client';")).toHaveLength(1);
    expect(violationsOf('src/server/server.ts', "import * as grpc from '@grpc/grpc-js';")).toHaveLength(1);
    expect(violationsOf('src/server/server.ts', "import protobuf from 'protobufjs/minimal.js';")).toHaveLength(1);
    expect(violationsOf('src/wal/wal.ts', "import { connect } from 'node:net';")).toHaveLength(1);
    expect(violationsOf('src/transport/peer.ts', "import { open } from 'node:fs/promises';")).toHaveLength(1);
  });

  it('keeps clocks, timers, randomness, database opening and process.exit in the member\'s real environment', () => {
    expect(violationsOf('src/server/member.ts', "import { Level } from 'level';")).toEqual([
      "1: src/server may import the package 'level' ('level') only in its environment (src/server/real-env.ts), or with `import type`",
    ]);
    const member = ['const t = Date.now();', 'setInterval(tick, 100);', "const db = new Level('x');", 'randomInt(10);', 'process.exit(1);', 'setImmediate(go);'].join('\n');
    expect(violationsOf('src/server/member.ts', member).map((v) => v.replace(/ may not use (.*?):.*/, ' $1'))).toEqual([
      '1: src/server is deterministic and Date.now',
      '2: src/server is deterministic and setInterval',
      '3: src/server is deterministic and a database opened with new Level / ClassicLevel / MemoryLevel',
      '4: src/server is deterministic and randomInt',
      '5: src/server is deterministic and process.exit',
      '6: src/server is deterministic and setImmediate',
    ]);
    expect(violationsOf('src/server/real-env.ts', member)).toEqual([]);
  });

  it('flags files outside the table and imports that leave src/', () => {
    expect(violationsOf('src/index.ts', '')).toHaveLength(1);
    expect(violationsOf('src/misc/thing.ts', '')).toHaveLength(1);
    expect(violationsOf('src/raft/raft.ts', "import { x } from '../../test/helpers.js';")).toHaveLength(1);
  });
});

describe('architecture: the checker allows what the table allows (self-test)', () => {
  const allowed: SourceFile[] = [
    {
      path: 'src/raft/raft.ts',
      text: [
        '// Date.now() and setTimeout are never called here: time is a count of ticks.',
        "/* import { readFileSync } from 'node:fs'; Math.random() */",
        "import { assert } from '../util/assert.js';",
        "import { Progress } from './tracker/progress.js';",
        "import type { Entry } from './types.js';",
        "const msg = 'no Date.now or setTimeout in strings either';",
        'const re = /Date\\.now\\(\\)/;',
        'const url = "http://example.com"; // a comment after a string with //',
        'const half = total / 2; const other = (a + b) / 2;',
        'this.clock.setTimeout(fn, 1); opts.random(); const dateNow = x.Date.now;',
        'const tmpl = `setTimeout ${label} Math.random`;',
      ].join('\n'),
    },
    { path: 'src/raft/quorum/majority.ts', text: "import { assert } from '../../util/assert.js';" },
    {
      path: 'src/mvcc/kv.ts',
      text: [
        "import { AbstractLevel } from 'abstract-level';",
        "import type { ClassicLevel } from 'classic-level';",
        "import type { MemoryLevel } from 'memory-level';",
        "import { ErrCompacted } from '../errors.js';",
        "import { Prng } from '../util/index.js';",
      ].join('\n'),
    },
    {
      path: 'src/wal/segment.ts',
      text: "import { open } from 'node:fs/promises';\nimport path from 'node:path';\nimport { crc32 } from 'node:zlib';\nimport { Packr } from 'msgpackr';",
    },
    { path: 'src/transport/peer.ts', text: "import net from 'node:net';\nimport tls from 'node:tls';\nimport { assert } from '../util/assert.js';" },
    { path: 'src/lease/lessor.ts', text: "import type { KV } from '../mvcc/kv.js';\nimport { ErrLeaseNotFound } from '../errors.js';" },
    { path: 'src/auth/store.ts', text: "import { scrypt } from 'node:crypto';\nimport { Revision } from '../mvcc/revision.js';" },
    { path: 'src/watch/hub.ts', text: "import { EventEmitter } from 'node:events';\nimport type { Event } from '../mvcc/event.js';" },
    {
      path: 'src/server/member.ts',
      text: [
        "import { RawNode } from '../raft/index.js';",
        "import { Wal } from '../wal/wal.js';",
        "import { Lessor } from '../lease/lessor.js';",
        "import { Registry } from 'prom-client';",
        "import type { Level } from 'level';",
        'const started = this.env.clock.nowMs();',
        'this.env.timers.after(5, tick);',
      ].join('\n'),
    },
    {
      path: 'src/server/real-env.ts',
      text: [
        "import { randomInt } from 'node:crypto';",
        "import { Level } from 'level';",
        'export const clock = { nowMs: () => Date.now() };',
        'export const after = (ms, fn) => setTimeout(fn, ms);',
        'export const open = (dir) => new Level(dir);',
        'export const random = (n) => randomInt(n);',
      ].join('\n'),
    },
    {
      path: 'src/api/grpc/kv.ts',
      text: "import * as grpc from '@grpc/grpc-js';\nimport { Member } from '../../server/member.js';\nimport { ErrCompacted } from '../../errors.js';",
    },
    { path: 'src/client/client.ts', text: "import * as grpc from '@grpc/grpc-js';\nimport { ErrCompacted } from '../errors.js';" },
    { path: 'src/cli/tsetcd.ts', text: "import { Member } from '../server/member.js';\nimport { Client } from '../client/client.js';" },
    { path: 'src/errors.ts', text: 'export const ErrCompacted = { code: 11 };' },
  ];

  it('reports nothing for allowed imports, comments, strings and injected clocks', () => {
    expect(formatViolations(checkFiles(allowed))).toBe('');
  });
});

describe('architecture: the lexer and resolver', () => {
  it('blanks comments but keeps offsets and lines', () => {
    const text = "a // x\n/* y\n z */ b 'c//d' `e${f}g`";
    const { code, codeOnly } = stripSource(text);
    expect(code.length).toBe(text.length);
    expect(code.split('\n')).toHaveLength(3);
    expect(code).toBe("a     \n    \n      b 'c//d' `e${f}g`");
    expect(codeOnly).toBe("a     \n    \n      b '    ' ` ${f} `");
  });

  it('finds imports with their kinds and lines', () => {
    const refs = findImports(
      "import type { A } from './a.js';\nimport type from 'b';\nexport type { C } from './c.js';\nconst x = import.meta.url;",
    );
    expect(refs).toEqual([
      { specifier: './a.js', kind: 'import', typeOnly: true, line: 1 },
      { specifier: 'b', kind: 'import', typeOnly: false, line: 2 },
      { specifier: './c.js', kind: 'export-from', typeOnly: true, line: 3 },
    ]);
  });

  it('resolves specifiers to modules, builtins and packages', () => {
    expect(resolveImport('src/raft/quorum/majority.ts', '../../util/assert.js')).toEqual({
      type: 'internal',
      target: 'src/util',
      path: 'src/util/assert.js',
    });
    expect(resolveImport('src/mvcc/kv.ts', '../errors.js')).toMatchObject({ type: 'internal', target: 'src/errors.ts' });
    expect(resolveImport('src/client/kv.ts', '../../proto/rpc.js')).toMatchObject({ type: 'internal', target: 'proto' });
    expect(resolveImport('src/x/y.ts', 'node:fs/promises')).toEqual({ type: 'builtin', name: 'fs' });
    expect(resolveImport('src/x/y.ts', 'zlib')).toEqual({ type: 'builtin', name: 'zlib' });
    expect(resolveImport('src/x/y.ts', '@grpc/grpc-js/build/src/x.js')).toEqual({ type: 'package', name: '@grpc/grpc-js' });
    expect(resolveImport('src/x/y.ts', 'protobufjs/minimal.js')).toEqual({ type: 'package', name: 'protobufjs' });
    expect(moduleOfPath('src/errors.ts')).toBe('src/errors.ts');
    expect(moduleOfPath('src/raft/quorum/majority.ts')).toBe('src/raft');
    expect(moduleOfPath('src/index.ts')).toBeNull();
  });

  it('checks every forbidden name it lists', () => {
    for (const { name } of FORBIDDEN_NONDETERMINISM) {
      const call = name === 'new Date / Date()' ? 'new Date()' : `${name}()`;
      expect(violationsOf('src/raft/x.ts', `const v = ${call};`), name).toHaveLength(1);
    }
  });
});
