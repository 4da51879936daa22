// Writes docs/config.md, and the option tables between the markers in README.md, from the option table;
// with --check, exits 1 when either file is stale instead.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigDocs } from './config.js';

export const CONFIG_DOCS_PATH = fileURLToPath(new URL('../docs/config.md', import.meta.url));
export const README_PATH = fileURLToPath(new URL('../README.md', import.meta.url));
const BEGIN = '<!-- options:begin -->';
const END = '<!-- options:end -->';

/** The README carries the same tables as docs/config.md, one heading level down. */
export function renderReadmeOptions(readme: string): string {
  const docs = renderConfigDocs();
  const tables = docs.slice(docs.indexOf('\n## ') + 1).replace(/^## /gm, '### ');
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${BEGIN} ... ${END} section`);
  return `${readme.slice(0, start + BEGIN.length)}\n${tables.trimEnd()}\n${readme.slice(end)}`;
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export function main(argv: readonly string[] = process.argv.slice(2)): number {
  const wantedDocs = renderConfigDocs();
  const readme = read(README_PATH);
  const wantedReadme = renderReadmeOptions(readme);
  if (argv.includes('--check')) {
    const stale = [
      ...(read(CONFIG_DOCS_PATH) === wantedDocs ? [] : [CONFIG_DOCS_PATH]),
      ...(readme === wantedReadme ? [] : [README_PATH]),
    ];
    if (stale.length === 0) return 0;
    console.error(`${stale.join(' and ')} stale: run npm run docs`);
    return 1;
  }
  writeFileSync(CONFIG_DOCS_PATH, wantedDocs);
  writeFileSync(README_PATH, wantedReadme);
  console.log(`wrote ${CONFIG_DOCS_PATH} and the option tables in ${README_PATH}`);
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = main();
}
