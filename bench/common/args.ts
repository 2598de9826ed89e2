/**
 * Command-line options for the bench programs: node's parseArgs, plus `--help`, which prints
 * the program's own doc comment (its usage, kept beside the code it describes), and a clear
 * message with exit status 2 instead of a stack trace for an unknown or malformed option.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

/** The first doc comment of the file at `url`, without its comment markers. */
export function docComment(url: string): string {
  const source = readFileSync(fileURLToPath(url), 'utf8');
  const m = /\/\*\*([\s\S]*?)\*\//.exec(source);
  if (m === null) return '';
  return (m[1] ?? '')
    .split('\n')
    .map((l) => l.replace(/^\s*\* ?/, ''))
    .join('\n')
    .trim();
}

/** `url` is the calling program's import.meta.url: its doc comment is the usage. */
export function benchArgs<O extends Options>(url: string, options: O): ReturnType<typeof parseArgs<{ options: O }>>['values'] {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(docComment(url));
    process.exit(0);
  }
  try {
    return parseArgs({ args, options }).values;
  } catch (e) {
    console.error(`${(e as Error).message}\n(--help for the options)`);
    process.exit(2);
  }
}
