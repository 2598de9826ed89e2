/** Where the comparison programs leave their reports: results/ at the repository root. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESULTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'results');

/** Writes `text` to results/<name>-<timestamp>.md and says where on stderr. */
export async function writeResults(name: string, text: string): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.md`);
  await writeFile(file, text);
  console.error(`written to ${path.relative(process.cwd(), file)}`);
  return file;
}
