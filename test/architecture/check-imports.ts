/**
 * The import checker behind test/architecture.test.ts. It encodes DESIGN.md's module table
 * ("Modules and who may import whom") as data and checks source text against it:
 *
 * - which of the repo's own modules a module may import (dependencies point one way, down the
 *   table; a module's own files may always import each other);
 * - which Node builtins and npm packages it may import;
 * - for the deterministic core (util, errors.ts, raft, mvcc) and the member (server, outside its
 *   real environment's file), that the code never reads a clock, starts a timer, draws
 *   randomness, opens a database or exits the process of its own.
 *
 * It works on text, not on the TypeScript AST, so it stays small and fast: comments are blanked
 * out first (and, for the determinism check, string contents too), then regular expressions find
 * `import ... from '...'`, `import '...'`, `export ... from '...'`, `import('...')` and
 * `require('...')`. Relative specifiers are resolved against the importing file to find the
 * module they land in. The self-test in test/architecture.test.ts runs the same functions over
 * in-memory fixtures, so a checker that silently matches nothing fails the build too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';

/** The modules of DESIGN.md's table, in table order: a module imports only modules before it. */
export const MODULE_ORDER = [
  'src/util',
  'src/errors.ts',
  'src/raft',
  'src/wal',
  'src/mvcc',
  'src/lease',
  'src/auth',
  'src/watch',
  'src/transport',
  'src/server',
  'src/api',
  'src/client',
  'src/cli',
] as const;

export type ModuleId = (typeof MODULE_ORDER)[number];

/** Import targets in this repo that are not modules of src/: the wire API's definitions. */
export type ImportTarget = ModuleId | 'proto';

export interface ModuleRule {
  /** Other modules of this repo it may import. */
  readonly imports: readonly ImportTarget[];
  /** Node builtins it may import, by base name ('fs' covers 'node:fs' and 'node:fs/promises'). */
  readonly builtins: readonly string[] | 'any';
  /** npm packages it may import (exact names; an entry ending in '/' is a scope, e.g. '@grpc/'). */
  readonly packages: readonly string[] | 'any';
  /** npm packages it may import only with `import type` / `export type` (erased at run time). */
  readonly typeOnlyPackages?: readonly string[];
  /** With `packages: 'any'`: packages it still may not import. */
  readonly deniedPackages?: readonly string[];
  /** No clocks, timers or randomness of its own (see FORBIDDEN_NONDETERMINISM). */
  readonly deterministic: boolean;
  /**
   * The files that build the module's real environment (src/server/real-env.ts): exempt from
   * `deterministic`, and the only ones that may import `environmentPackages` for their values.
   */
  readonly environmentFiles?: readonly string[];
  readonly environmentPackages?: readonly string[];
}

export type ModuleRules = Readonly<Record<ModuleId, ModuleRule>>;

/** Builtins with no I/O, clock or randomness; harmless in any layer that may have builtins. */
const PLAIN_BUILTINS = ['buffer', 'events', 'util', 'string_decoder'] as const;

/**
 * DESIGN.md's module table as data. Loosening an entry is a design change: update DESIGN.md's
 * table in the same change.
 */
export const MODULE_RULES: ModuleRules = {
  // util and errors.ts import nothing, and since raft and mvcc import them they are held to the
  // same determinism rule: a clock read in util would be a clock read in raft.
  'src/util': { imports: [], builtins: [], packages: [], deterministic: true },
  'src/errors.ts': { imports: [], builtins: [], packages: [], deterministic: true },
  // The pure Raft state machine: no builtins, no packages, time is ticks and randomness is seeded.
  'src/raft': { imports: ['src/util'], builtins: [], packages: [], deterministic: true },
  // Segment files: fs through an injectable interface, CRC32C (@node-rs/crc32: node:zlib only
  // has the IEEE polynomial), msgpackr payloads.
  'src/wal': {
    imports: ['src/util'],
    builtins: ['fs', 'path', 'crypto', 'zlib', 'stream', ...PLAIN_BUILTINS],
    packages: ['msgpackr', '@node-rs/crc32'],
    deterministic: false,
  },
  // Handed an abstract-level database; never opens one itself (so concrete backends such as
  // classic-level or memory-level may appear in type positions only). The key index is a
  // sorted-btree; hashKV is CRC32C from @node-rs/crc32 (both pure computation, no I/O).
  'src/mvcc': {
    imports: ['src/util', 'src/errors.ts'],
    builtins: [],
    packages: ['abstract-level', 'level-transcoder', 'sorted-btree', '@node-rs/crc32'],
    typeOnlyPackages: ['level', 'classic-level', 'memory-level', 'browser-level'],
    deterministic: true,
  },
  // Clocks are injected; lease deletes keys through a callback it is handed.
  'src/lease': {
    imports: ['src/mvcc', 'src/util', 'src/errors.ts'],
    builtins: [...PLAIN_BUILTINS],
    packages: [],
    deterministic: false,
  },
  // Password hashing and token generation need node:crypto.
  'src/auth': {
    imports: ['src/mvcc', 'src/util', 'src/errors.ts'],
    builtins: ['crypto', ...PLAIN_BUILTINS],
    packages: [],
    deterministic: false,
  },
  'src/watch': {
    imports: ['src/mvcc', 'src/util', 'src/errors.ts'],
    builtins: [...PLAIN_BUILTINS],
    packages: [],
    deterministic: false,
  },
  // Peer connections: framed msgpackr messages over net/tls.
  'src/transport': {
    imports: ['src/util'],
    builtins: ['net', 'tls', 'timers', 'stream', 'dns', ...PLAIN_BUILTINS],
    packages: ['msgpackr'],
    deterministic: false,
  },
  // One member: everything above it. The wire (gRPC, protobuf) stays in api. Its clock, timers,
  // randomness, disk, databases and network are injected (env.ts): only real-env.ts builds the
  // real ones, so the whole cluster can run in one seeded simulation (test/sim-cluster).
  'src/server': {
    imports: [
      'src/util',
      'src/errors.ts',
      'src/raft',
      'src/wal',
      'src/mvcc',
      'src/lease',
      'src/auth',
      'src/watch',
      'src/transport',
    ],
    builtins: 'any',
    packages: 'any',
    deniedPackages: ['@grpc/', 'protobufjs'],
    deterministic: true,
    environmentFiles: ['src/server/real-env.ts'],
    environmentPackages: ['level', 'classic-level', 'memory-level'],
  },
  // gRPC services, the HTTP/JSON gateway, /metrics and /health: reaches the layers below only
  // through server.
  'src/api': {
    imports: ['src/server', 'src/errors.ts', 'src/util', 'proto'],
    builtins: 'any',
    packages: 'any',
    deterministic: false,
  },
  // The client library knows the wire and the error catalog, never the server's insides.
  'src/client': {
    imports: ['src/errors.ts', 'src/util', 'proto'],
    builtins: 'any',
    packages: 'any',
    deniedPackages: ['prom-client'],
    deterministic: false,
  },
  // Entry points: tsetcdctl (client) and tsetcd (server), plus whatever they need to wire up.
  'src/cli': {
    imports: [...MODULE_ORDER.filter((m) => m !== 'src/cli'), 'proto'],
    builtins: 'any',
    packages: 'any',
    deterministic: false,
  },
};

/**
 * What the deterministic modules may not reference. Property accesses on other objects
 * (`this.clock.setTimeout`, `opts.random`) are fine: that is what injection looks like.
 * Accesses through `globalThis.` / `global.` are caught.
 */
export const FORBIDDEN_NONDETERMINISM: readonly { readonly name: string; readonly pattern: RegExp }[] = [
  ['Date.now', String.raw`Date\s*\.\s*now\b`],
  // `new Date`, `new Date(...)` and `Date()` (which returns the current time as a string).
  ['new Date / Date()', String.raw`(?:new\s+Date\b|Date\s*\()`],
  ['Math.random', String.raw`Math\s*\.\s*random\b`],
  ['performance.now', String.raw`performance\s*\.\s*now\b`],
  ['setTimeout', String.raw`setTimeout\b`],
  ['setInterval', String.raw`setInterval\b`],
  ['setImmediate', String.raw`setImmediate\b`],
  ['process.hrtime', String.raw`process\s*\.\s*hrtime\b`],
  ['process.nextTick', String.raw`process\s*\.\s*nextTick\b`],
  ['queueMicrotask', String.raw`queueMicrotask\b`],
  ['crypto.getRandomValues', String.raw`crypto\s*\.\s*getRandomValues\b`],
  ['crypto.randomUUID', String.raw`crypto\s*\.\s*randomUUID\b`],
  // node:crypto's functions, imported by name.
  ['randomInt', String.raw`randomInt\s*\(`],
  ['randomBytes', String.raw`randomBytes\s*\(`],
  ['randomUUID', String.raw`randomUUID\s*\(`],
  // Opening a database is the environment's (Databases.open), as is ending the process.
  ['a database opened with new Level / ClassicLevel / MemoryLevel', String.raw`new\s+(?:Level|ClassicLevel|MemoryLevel)\b`],
  ['process.exit', String.raw`process\s*\.\s*exit\b`],
].map(([name, body]) => ({
  name: name as string,
  // Not preceded by an identifier character or a '.', unless the '.' follows a global object.
  pattern: new RegExp(String.raw`(?<![\w$.])(?:(?:globalThis|global|self|window)\s*\.\s*)?` + body, 'g'),
}));

export interface SourceFile {
  /** Path relative to the repository root, with '/' separators, e.g. 'src/raft/raft.ts'. */
  readonly path: string;
  readonly text: string;
}

export interface Violation {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

export type ImportKind = 'import' | 'export-from' | 'side-effect' | 'dynamic' | 'require';

export interface ImportRef {
  /** The module specifier, or null for a dynamic import whose argument is not a literal. */
  readonly specifier: string | null;
  readonly kind: ImportKind;
  /** `import type ...` / `export type ... from`: erased at run time. */
  readonly typeOnly: boolean;
  readonly line: number;
}

// ---------------------------------------------------------------------------------------------
// Lexing: blank out comments (and optionally string contents), keeping every offset and newline
// so match positions map back to the original lines.

export interface StrippedSource {
  /** Comments replaced by spaces; strings intact. Used to find imports. */
  readonly code: string;
  /** Comments and the contents of strings, templates and regex literals replaced by spaces
   * (template `${...}` expressions stay). Used for the determinism check. */
  readonly codeOnly: string;
}

const REGEX_AFTER_CHARS = new Set('(,=:[!&|?{};+-*%<>~^'.split(''));
const REGEX_AFTER_WORDS = new Set([
  'return',
  'typeof',
  'instanceof',
  'case',
  'do',
  'else',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'yield',
  'await',
]);

export function stripSource(text: string): StrippedSource {
  const code = text.split('');
  const codeOnly = text.split('');
  const blank = (out: string[], from: number, to: number): void => {
    for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  // Brace depth of each open template `${`, so the matching `}` resumes the template.
  const templateStack: number[] = [];
  let braceDepth = 0;
  let i = 0;
  const n = text.length;

  // Scans a quoted string starting at the opening quote; returns the index after it. Unclosed
  // strings end at the line's end, so a mistake costs one line at most.
  const scanString = (start: number, quote: string): number => {
    let j = start + 1;
    while (j < n) {
      const c = text[j];
      if (c === '\\') j += 2;
      else if (c === quote) return j + 1;
      else if (c === '\n') return j;
      else j++;
    }
    return n;
  };

  // Scans template text from `start` (just after '`' or after the '}' closing an expression)
  // to the closing '`' or an opening '${'. Returns [index after it, whether it opened '${'].
  const scanTemplate = (start: number): [number, boolean] => {
    let j = start;
    while (j < n) {
      const c = text[j];
      if (c === '\\') j += 2;
      else if (c === '`') return [j + 1, false];
      else if (c === '$' && text[j + 1] === '{') return [j + 2, true];
      else j++;
    }
    return [n, false];
  };

  const previousSignificant = (at: number): { char: string; word: string } => {
    let j = at - 1;
    while (j >= 0 && /\s/.test(code[j] as string)) j--;
    if (j < 0) return { char: '', word: '' };
    const char = code[j] as string;
    let k = j;
    while (k >= 0 && /[\w$]/.test(code[k] as string)) k--;
    return { char, word: code.slice(k + 1, j + 1).join('') };
  };

  const runTemplate = (from: number): number => {
    const [end, opened] = scanTemplate(from);
    blank(codeOnly, from, opened ? end - 2 : end - 1);
    if (opened) {
      templateStack.push(braceDepth);
      braceDepth++;
    }
    return end;
  };

  while (i < n) {
    const c = text[i] as string;
    const next = text[i + 1];
    if (c === '/' && next === '/') {
      let j = text.indexOf('\n', i);
      if (j < 0) j = n;
      blank(code, i, j);
      blank(codeOnly, i, j);
      i = j;
    } else if (c === '/' && next === '*') {
      let j = text.indexOf('*/', i + 2);
      j = j < 0 ? n : j + 2;
      blank(code, i, j);
      blank(codeOnly, i, j);
      i = j;
    } else if (c === '"' || c === "'") {
      const j = scanString(i, c);
      blank(codeOnly, i + 1, Math.max(i + 1, j - 1));
      i = j;
    } else if (c === '`') {
      i = runTemplate(i + 1);
    } else if (c === '{') {
      braceDepth++;
      i++;
    } else if (c === '}') {
      braceDepth--;
      i++;
      if (templateStack.length > 0 && templateStack[templateStack.length - 1] === braceDepth) {
        templateStack.pop();
        i = runTemplate(i);
      }
    } else if (c === '/') {
      const prev = previousSignificant(i);
      const isRegex =
        prev.char === '' || REGEX_AFTER_CHARS.has(prev.char) || (prev.word !== '' && REGEX_AFTER_WORDS.has(prev.word));
      if (!isRegex) {
        i++;
        continue;
      }
      let j = i + 1;
      let inClass = false;
      while (j < n && text[j] !== '\n') {
        const d = text[j];
        if (d === '\\') j += 2;
        else if (d === '/' && !inClass) break;
        else {
          if (d === '[') inClass = true;
          else if (d === ']') inClass = false;
          j++;
        }
      }
      blank(codeOnly, i + 1, j);
      i = j < n && text[j] === '/' ? j + 1 : j;
    } else {
      i++;
    }
  }
  return { code: code.join(''), codeOnly: codeOnly.join('') };
}

// ---------------------------------------------------------------------------------------------
// Finding imports.

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let k = 0; k < text.length; k++) if (text[k] === '\n') starts.push(k + 1);
  return starts;
}

function lineAt(starts: readonly number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] as number) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

// `import <clause> from '<spec>'`; the clause is identifiers, braces, commas, '*' and spaces, so
// a match never runs past the end of a statement.
const STATIC_IMPORT = /(?<![\w$.])import(?:\s+|(?=[{*]))([\w$\s{},*]+?)\s*\bfrom\s*(['"])([^'"\n]+)\2/g;
const SIDE_EFFECT_IMPORT = /(?<![\w$.])import\s*(['"])([^'"\n]+)\1/g;
const EXPORT_FROM = /(?<![\w$.])export\s+(type\s+)?(?:\*\s*(?:as\s+[\w$]+\s*)?|\{[^}]*\}\s*)from\s*(['"])([^'"\n]+)\2/g;
const DYNAMIC_IMPORT = /(?<![\w$.])import\s*\(\s*(?:(['"])([^'"\n]+)\1|`([^`$]*)`)?/g;
const REQUIRE = /(?<![\w$.])require\s*\(\s*(['"])([^'"\n]+)\1/g;

export function findImports(text: string): ImportRef[] {
  const { code } = stripSource(text);
  const starts = lineStarts(code);
  const refs: { offset: number; ref: ImportRef }[] = [];
  const add = (offset: number, specifier: string | null, kind: ImportKind, typeOnly: boolean): void => {
    refs.push({ offset, ref: { specifier, kind, typeOnly, line: lineAt(starts, offset) } });
  };
  for (const m of code.matchAll(STATIC_IMPORT)) {
    const clause = (m[1] as string).trim();
    // `import type from 'x'` is a default import named `type`, not a type-only import.
    add(m.index, m[3] as string, 'import', /^type\s+\S/.test(clause));
  }
  for (const m of code.matchAll(SIDE_EFFECT_IMPORT)) add(m.index, m[2] as string, 'side-effect', false);
  for (const m of code.matchAll(EXPORT_FROM)) add(m.index, m[3] as string, 'export-from', m[1] !== undefined);
  for (const m of code.matchAll(DYNAMIC_IMPORT)) add(m.index, m[2] ?? m[3] ?? null, 'dynamic', false);
  for (const m of code.matchAll(REQUIRE)) add(m.index, m[2] as string, 'require', false);
  refs.sort((x, y) => x.offset - y.offset);
  return refs.map((r) => r.ref);
}

// ---------------------------------------------------------------------------------------------
// Classifying files and specifiers.

const BUILTINS = new Set(builtinModules);

/** The module a repo-relative path belongs to, or null when it is in none. */
export function moduleOfPath(repoPath: string): ImportTarget | null {
  const p = path.posix.normalize(repoPath);
  if (p === 'src/errors.ts' || p === 'src/errors.js' || p === 'src/errors') return 'src/errors.ts';
  if (p === 'proto' || p.startsWith('proto/')) return 'proto';
  const m = /^src\/([^/]+)\//.exec(p);
  if (m === null) return null;
  const id = `src/${m[1] as string}`;
  return (MODULE_ORDER as readonly string[]).includes(id) ? (id as ModuleId) : null;
}

export type ResolvedImport =
  | { readonly type: 'internal'; readonly target: ImportTarget; readonly path: string }
  | { readonly type: 'outside'; readonly path: string }
  | { readonly type: 'builtin'; readonly name: string }
  | { readonly type: 'package'; readonly name: string }
  | { readonly type: 'unknown'; readonly reason: string };

export function resolveImport(fromFile: string, specifier: string): ResolvedImport {
  if (specifier.startsWith('.') || specifier.startsWith('/')) {
    const target = specifier.startsWith('/')
      ? specifier
      : path.posix.normalize(path.posix.join(path.posix.dirname(fromFile), specifier));
    const module = moduleOfPath(target);
    return module === null ? { type: 'outside', path: target } : { type: 'internal', target: module, path: target };
  }
  if (specifier.startsWith('node:')) return { type: 'builtin', name: baseBuiltin(specifier.slice(5)) };
  if (BUILTINS.has(specifier)) return { type: 'builtin', name: baseBuiltin(specifier) };
  if (specifier.startsWith('#')) return { type: 'unknown', reason: 'package.json subpath imports are not used here' };
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
  return { type: 'package', name };
}

function baseBuiltin(name: string): string {
  return name.split('/')[0] as string;
}

function packageListed(list: readonly string[], name: string): boolean {
  return list.some((entry) => (entry.endsWith('/') ? name.startsWith(entry) : name === entry));
}

// ---------------------------------------------------------------------------------------------
// Checking.

export function checkFile(file: SourceFile, rules: ModuleRules = MODULE_RULES): Violation[] {
  const violations: Violation[] = [];
  const report = (line: number, message: string): void => {
    violations.push({ file: file.path, line, message });
  };
  const own = moduleOfPath(file.path);
  if (own === null || own === 'proto') {
    report(1, `file is in no module of DESIGN.md's table (${MODULE_ORDER.join(', ')})`);
    return violations;
  }
  const rule = rules[own];
  const inEnvironment = rule.environmentFiles?.includes(file.path) === true;

  for (const ref of findImports(file.text)) {
    if (ref.specifier === null) {
      report(ref.line, `${own} has a dynamic import whose specifier is not a string literal; it cannot be checked`);
      continue;
    }
    const shown = `'${ref.specifier}'`;
    const resolved = resolveImport(file.path, ref.specifier);
    switch (resolved.type) {
      case 'internal':
        if (resolved.target !== own && !rule.imports.includes(resolved.target)) {
          report(ref.line, `${own} may not import ${resolved.target} (${shown}); it may import: ${listOrNothing(rule.imports)}`);
        }
        break;
      case 'outside':
        report(ref.line, `${own} imports ${shown}, which resolves to '${resolved.path}', outside src/ and proto/`);
        break;
      case 'builtin':
        if (rule.builtins !== 'any' && !rule.builtins.includes(resolved.name)) {
          report(ref.line, `${own} may not import the Node builtin '${resolved.name}' (${shown}); allowed: ${listOrNothing(rule.builtins)}`);
        }
        break;
      case 'package': {
        const environmentOnly = !ref.typeOnly && !inEnvironment && rule.environmentPackages !== undefined && packageListed(rule.environmentPackages, resolved.name);
        if (environmentOnly) {
          report(ref.line, `${own} may import the package '${resolved.name}' (${shown}) only in its environment (${listOrNothing(rule.environmentFiles ?? [])}), or with \`import type\``);
          break;
        }
        const denied = rule.deniedPackages !== undefined && packageListed(rule.deniedPackages, resolved.name);
        const allowed =
          rule.packages === 'any'
            ? !denied
            : packageListed(rule.packages, resolved.name) ||
              (ref.typeOnly && rule.typeOnlyPackages !== undefined && packageListed(rule.typeOnlyPackages, resolved.name));
        if (!allowed) {
          const typeOnlyNote =
            !ref.typeOnly && rule.typeOnlyPackages !== undefined && packageListed(rule.typeOnlyPackages, resolved.name)
              ? ' except with `import type`'
              : '';
          report(ref.line, `${own} may not import the package '${resolved.name}'${typeOnlyNote} (${shown})`);
        }
        break;
      }
      case 'unknown':
        report(ref.line, `${own} imports ${shown}: ${resolved.reason}`);
        break;
    }
  }

  if (rule.deterministic && !inEnvironment) {
    const { codeOnly } = stripSource(file.text);
    const starts = lineStarts(codeOnly);
    for (const { name, pattern } of FORBIDDEN_NONDETERMINISM) {
      for (const m of codeOnly.matchAll(pattern)) {
        report(
          lineAt(starts, m.index),
          `${own} is deterministic and may not use ${name}: time and randomness are injected (ticks, a Clock, a seeded Prng)`,
        );
      }
    }
  }

  return violations.sort((x, y) => x.line - y.line);
}

export function checkFiles(files: readonly SourceFile[], rules: ModuleRules = MODULE_RULES): Violation[] {
  return files.flatMap((f) => checkFile(f, rules));
}

function listOrNothing(items: readonly string[]): string {
  return items.length === 0 ? 'nothing' : items.join(', ');
}

export function formatViolations(violations: readonly Violation[]): string {
  return violations.map((v) => `${v.file}:${v.line}: ${v.message}`).join('\n');
}

const SOURCE_EXTENSIONS = /\.(?:ts|mts|cts|tsx|js|mjs|cjs)$/;

/** Every source file under `<repoRoot>/<dir>`, with repo-relative '/' paths, sorted. */
export function readSourceFiles(repoRoot: string, dir = 'src'): SourceFile[] {
  const files: SourceFile[] = [];
  const walk = (rel: string): void => {
    for (const entry of readdirSync(path.join(repoRoot, rel), { withFileTypes: true })) {
      const child = `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile() && SOURCE_EXTENSIONS.test(entry.name)) {
        files.push({ path: child, text: readFileSync(path.join(repoRoot, child), 'utf8') });
      }
    }
  };
  walk(dir);
  return files.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}
