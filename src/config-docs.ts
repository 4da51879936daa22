// Writes docs/config.md from the option table; with --check, exits 1 when the file is stale instead.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigDocs } from './config.js';

export const CONFIG_DOCS_PATH = fileURLToPath(new URL('../docs/config.md', import.meta.url));

export function main(argv: readonly string[] = process.argv.slice(2)): number {
  const wanted = renderConfigDocs();
  if (argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(CONFIG_DOCS_PATH, 'utf8');
    } catch {
      // missing counts as stale
    }
    if (current === wanted) return 0;
    console.error(`${CONFIG_DOCS_PATH} is stale: run node --import tsx src/config-docs.ts`);
    return 1;
  }
  writeFileSync(CONFIG_DOCS_PATH, wanted);
  console.log(`wrote ${CONFIG_DOCS_PATH}`);
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = main();
}
