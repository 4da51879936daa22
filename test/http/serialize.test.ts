// The hand-written JSON of route answers must equal JSON.stringify's, for any strings.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { jsonString, serializeRouteAnswer, serializeRouteAnswerBytes, serializeRouteBatch } from '../../src/http/serialize.js';
import { checkKey, utf8Length } from '../../src/http/keys.js';
import type { RouteAnswer, RouteOwner } from '../../src/runtime/view.js';

/** Well-formed strings rich in what JSON must escape (quote, backslash, control characters) and non-ASCII. */
const text = fc.oneof(
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: fc.constantFrom('a', 'Z', '"', '\\', '\u0000', '\u001f', '\n', '\u007f', 'é', '€', '😀', '/', '<') }),
);

const owner: fc.Arbitrary<RouteOwner> = fc.record({
  name: text,
  addresses: fc.record({ gossip: text, grpc: text, app: text }),
  serving: fc.boolean(),
});

const answer: fc.Arbitrary<RouteAnswer> = fc.record({
  key: text,
  shard: fc.nat({ max: 2 ** 31 - 1 }),
  owner: fc.option(owner, { nil: null }),
  replicas: fc.array(owner, { maxLength: 3 }),
  version: text,
});

describe('serialize', () => {
  test('jsonString equals JSON.stringify for any well-formed string', () => {
    fc.assert(fc.property(text, (s) => assert.equal(jsonString(s), JSON.stringify(s))));
    assert.equal(jsonString('a"b\\c\u0000\u001f'), JSON.stringify('a"b\\c\u0000\u001f'));
  });

  test('one answer equals JSON.stringify, as text and as bytes', () => {
    fc.assert(
      fc.property(answer, (a) => {
        assert.equal(serializeRouteAnswer(a), JSON.stringify(a));
        assert.equal(serializeRouteAnswerBytes(a).toString('utf8'), JSON.stringify(a));
      }),
    );
  });

  test('a batch equals JSON.stringify, with shared owners and replica lists as the runtime shares them', () => {
    fc.assert(
      fc.property(fc.array(owner, { minLength: 1, maxLength: 4 }), fc.array(fc.tuple(text, fc.nat({ max: 9 }), fc.nat({ max: 99_999 }))), text, (owners, keys, version) => {
        // Ten shared replica lists, as one table version would have.
        const lists = Array.from({ length: 10 }, (_, i) => owners.slice(i % owners.length));
        const answers: RouteAnswer[] = keys.map(([key, list, shard]) => ({
          key,
          shard,
          owner: owners[list % owners.length] ?? null,
          replicas: lists[list] ?? [],
          version,
        }));
        assert.equal(serializeRouteBatch(version, answers).toString('utf8'), JSON.stringify({ version, routes: answers }));
      }),
    );
  });

  test('a cached replica list stays right when its owner or version changes', () => {
    const a: RouteOwner = { name: 'a', addresses: { gossip: 'g', grpc: 'r', app: '' }, serving: true };
    const b: RouteOwner = { ...a, name: 'b' };
    const shared: RouteOwner[] = [b];
    const answers: RouteAnswer[] = [
      { key: 'k1', shard: 1, owner: a, replicas: shared, version: 'v1' },
      { key: 'k2', shard: 2, owner: b, replicas: shared, version: 'v1' },
      { key: 'k3', shard: 3, owner: b, replicas: shared, version: 'v2' },
    ];
    assert.equal(serializeRouteBatch('v1', answers).toString(), JSON.stringify({ version: 'v1', routes: answers }));
  });
});

describe('keys', () => {
  test('utf8Length equals Buffer.byteLength for well-formed strings and is -1 for lone surrogates', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (s) => assert.equal(utf8Length(s), Buffer.byteLength(s, 'utf8'))));
    for (const bad of ['\ud800', 'a\udc00', '\ud83dx', 'x\ud83d']) assert.equal(utf8Length(bad), -1, JSON.stringify(bad));
  });

  test('checkKey: empty, too long in bytes, lone surrogate', () => {
    assert.equal(checkKey('', 8)?.code, 'key_empty');
    assert.equal(checkKey('123456789', 8)?.code, 'key_too_long');
    assert.equal(checkKey('жжжж', 7)?.code, 'key_too_long');
    assert.equal(checkKey('жжж', 7), null);
    assert.equal(checkKey('a\ud800', 8)?.code, 'key_invalid');
    assert.equal(checkKey('😀', 8), null);
  });

  test('checkKey agrees with a plain byte count for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 20 }), fc.integer({ min: 1, max: 60 }), (s, max) => {
        const problem = checkKey(s, max);
        const bytes = utf8Length(s);
        const expected = s.length === 0 ? 'key_empty' : s.length > max ? 'key_too_long' : bytes < 0 ? 'key_invalid' : bytes > max ? 'key_too_long' : null;
        assert.equal(problem?.code ?? null, expected);
      }),
    );
  });
});
