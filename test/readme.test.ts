// The README is a contract with newcomers: it opens with the two commands, and its option tables are the
// generated ones (every option with its default).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { OPTION_DOCS } from '../src/config.js';
import { renderReadmeOptions } from '../src/config-docs.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

test('README opens with exactly the install-and-run and the test commands', () => {
  const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  const commands = firstBlock.split('\n').filter((l) => l.trim()).map((l) => l.replace(/\s+#.*$/, '').trim());
  assert.deepEqual(commands, ['npm ci && npm start', 'npm test']);
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
  assert.match(pkg.scripts.start ?? '', /dist\/main\.cjs agent/);
});

test('README option tables are current (regenerate: npm run docs)', () => {
  assert.equal(readme, renderReadmeOptions(readme));
  for (const doc of OPTION_DOCS) {
    const name = doc.flag || doc.env;
    assert.ok(readme.includes(`\`${name}\``), `${name} is in the README`);
  }
});
