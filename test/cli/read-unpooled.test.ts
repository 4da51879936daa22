// The bin's reads of its bundle and code cache outside malloc: the same bytes and text as a plain read,
// for files of any size (empty, under a WebAssembly page, several pages, UTF-8 beyond Latin-1), and in
// memory that is not a malloc'd Node buffer where WebAssembly is available.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTextUnpooled, readUnpooled } from '../../src/cli/read-unpooled.js';

test('readUnpooled and readTextUnpooled give what readFileSync gives', () => {
  const dir = mkdtempSync(join(tmpdir(), 'swimring-read-'));
  try {
    const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 131 + 7) & 0xff));
    const cases: [string, Buffer][] = [
      ['empty', Buffer.alloc(0)],
      ['small', bytes(1000)],
      ['one page', bytes(65_536)],
      ['pages and a bit', bytes(3 * 65_536 + 17)],
      ['text', Buffer.from(`#!/usr/bin/env node\n${'const s = "Grüße → 東京";\n'.repeat(20_000)}`, 'utf8')],
    ];
    for (const [name, content] of cases) {
      const file = join(dir, name);
      writeFileSync(file, content);
      const read = readUnpooled(file);
      assert.equal(read.byteLength, content.byteLength, name);
      assert.ok(Buffer.from(read.buffer, read.byteOffset, read.byteLength).equals(content), name);
      assert.equal(readTextUnpooled(file), readFileSync(file, 'utf8'), name);
      // WebAssembly memory, not a Buffer from Node's pool or malloc: what keeps glibc's thresholds down.
      assert.equal(Buffer.isBuffer(read), false, name);
      assert.equal(read.buffer.byteLength % 65_536, 0, name);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing file is an error, as with readFileSync', () => {
  assert.throws(() => readUnpooled(join(tmpdir(), 'swimring-no-such-file-' + process.pid)), { code: 'ENOENT' });
});
