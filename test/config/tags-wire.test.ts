// The tags option is bounded by what the alive record can carry: whatever config accepts must gossip
// (UDP codec) and travel in a join (gRPC Negotiate records), and the first byte more must be refused at
// start-up with a message in the form the user wrote.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { loadConfig } from '../../src/config.js';
import { MAX_TAGS_TEXT_BYTES, maxTagsTextBytes, tags as tagsField } from '../../src/config/fields.js';
import { VERSION_1_ONLY, withProtocolTag } from '../../src/codec/protocol-version.js';
import { decodePacket, encodePacket, MAX_TAGS_BYTES, validateUpdateForWire } from '../../src/codec/index.js';
import type { MemberRecord, Update } from '../../src/core/types.js';
import { isRejection } from '../../src/grpc/errors.js';
import { memberFromProto, memberToProto } from '../../src/grpc/convert.js';
import type { MemberRecord__Output as ProtoMember } from '../../src/grpc/generated/swimring/v1/MemberRecord.js';
import { DEFAULT_LIMITS } from '../../src/grpc/limits.js';
import { MemoryCluster } from '../support/memory-members.js';

type Loaded = ReturnType<typeof loadConfig>;

/** The config of a member given `tags`: as a --tags flag if text, in its config file if an object. */
function loadTags(tags: string | Readonly<Record<string, string>>): Loaded {
  const inFile = typeof tags !== 'string';
  return loadConfig({
    argv: inFile ? [] : ['--tags', tags],
    env: inFile ? { SWIMRING_CONFIG: '/c.json' } : {},
    hostname: () => 'host-a',
    networkInterfaces: () => ({}),
    readFile: () => {
      if (!inFile) throw new Error('no file expected');
      return JSON.stringify({ tags });
    },
  });
}

function acceptedTags(text: string): Readonly<Record<string, string>> {
  const r = loadTags(text);
  if (!r.ok) assert.fail(`expected tags ${JSON.stringify(text.slice(0, 40))}... to be accepted:\n${r.problems.join('\n')}`);
  return r.config.tags;
}

function refusal(tags: string | Readonly<Record<string, string>>): string {
  const r = loadTags(tags);
  if (r.ok) assert.fail('expected the tags to be refused');
  assert.equal(r.problems.length, 1, r.problems.join('\n'));
  return r.problems[0] ?? '';
}

const bytesOf = (s: string): number => Buffer.byteLength(s, 'utf8');

/** Two tags written as exactly `total` bytes of k=v,k=v (each value within a wire string). */
function twoTagsOf(total: number): string {
  const text = `a=${'x'.repeat(253)},b=${'y'.repeat(total - 2 - 253 - 3)}`;
  assert.equal(bytesOf(text), total);
  return text;
}

function aliveWith(tags: Readonly<Record<string, string>>): Extract<Update, { kind: 'alive' }> {
  return {
    kind: 'alive',
    name: 'host-a',
    lifeId: 'life-1',
    incarnation: 1,
    gossipAddr: '10.0.0.1:7946',
    grpcAddr: '10.0.0.1:7947',
    meta: { appAddr: '10.0.0.1:8080', serving: true, tags },
  };
}

/** The alive record gossips (encode, decode, same tags) and is accepted as a Negotiate record. */
function assertTravels(tags: Readonly<Record<string, string>>): void {
  const alive = aliveWith(tags);
  assert.equal(validateUpdateForWire(alive), null);
  const decoded = decodePacket(encodePacket({ message: null, updates: [alive] }));
  assert.ok(decoded.ok, 'the packet decodes');
  const gossiped = decoded.packet.updates[0];
  assert.equal(gossiped?.kind, 'alive');
  assert.deepEqual(gossiped.kind === 'alive' ? gossiped.meta.tags : null, tags);
  const { kind: _kind, ...fields } = alive;
  const record: MemberRecord = { ...fields, state: 'alive' };
  const received = memberFromProto(memberToProto(record) as ProtoMember, 'members[0]', DEFAULT_LIMITS);
  assert.ok(!isRejection(received), `Negotiate accepts the record: ${isRejection(received) ? received.message : ''}`);
  assert.deepEqual(received.meta.tags, tags);
}

describe('tags: the config bound is the alive record bound', () => {
  test('the documented limit is the tags block less 2 bytes', () => {
    assert.equal(MAX_TAGS_TEXT_BYTES, MAX_TAGS_BYTES - 2);
  });

  test('tags at exactly the config maximum gossip and pass Negotiate', () => {
    const tags = acceptedTags(twoTagsOf(MAX_TAGS_TEXT_BYTES));
    assertTravels(tags);
  });

  test('one byte over the config maximum is refused, naming the limit as written and on the wire', () => {
    const why = refusal(twoTagsOf(MAX_TAGS_TEXT_BYTES + 1));
    assert.match(why, new RegExp(`tags take ${MAX_TAGS_TEXT_BYTES + 1} bytes as k=v,k=v; the limit is ${MAX_TAGS_TEXT_BYTES} \\(${MAX_TAGS_BYTES} in the alive record`));
  });

  test('a build speaking more than version 1 leaves room for its protocol tag, at the exact boundary', () => {
    const spoken = { min: 1, max: 2 };
    const limit = maxTagsTextBytes(spoken);
    assert.equal(maxTagsTextBytes(VERSION_1_ONLY), MAX_TAGS_TEXT_BYTES);
    assert.ok(limit < MAX_TAGS_TEXT_BYTES, 'the protocol tag takes room from the block');
    const field = tagsField(spoken);
    const atLimit = field.safeParse(twoTagsOf(limit));
    assert.ok(atLimit.success, 'the limit is accepted');
    assertTravels(withProtocolTag(atLimit.data, spoken));
    const over = field.safeParse(twoTagsOf(limit + 1));
    assert.ok(!over.success, 'one byte more is refused');
    assert.match(over.error.issues[0]?.message ?? '', new RegExp(`the limit is ${limit} \\(`));
  });

  test('a value fits a wire string: 255 bytes accepted, 256 refused', () => {
    assertTravels(acceptedTags(`k=${'é'.repeat(127)}x`));
    assert.match(refusal(`k=${'x'.repeat(256)}`), /tag "k" has a value of 256 bytes; the limit is 255/);
  });

  test('a value holding a lone surrogate is refused at start-up, not at the first packet', () => {
    assert.match(refusal({ k: 'a\uD800b' }), /tag "k" has a lone surrogate/);
  });

  test('any tag set config accepts travels; any it refuses for size would not', () => {
    const tagSet = fc.dictionary(
      fc.stringMatching(/^[a-z][a-z0-9]{0,11}$/),
      fc.string({ maxLength: 300, size: 'max', unit: fc.constantFrom('v', 'é', '€', '😀') }),
      { minKeys: 1, maxKeys: 8 },
    );
    fc.assert(
      fc.property(tagSet, (tags) => {
        const r = loadTags(tags);
        const wireWhy = validateUpdateForWire(aliveWith(tags));
        if (r.ok) assertTravels(r.config.tags);
        else assert.notEqual(wireWhy, null, `config refused what the wire carries: ${r.problems.join('; ')}`);
      }),
      { numRuns: 300 },
    );
  });

  test('a member with tags at the config maximum joins and its peer holds its tags', async () => {
    const tags = acceptedTags(twoTagsOf(MAX_TAGS_TEXT_BYTES));
    const cluster = new MemoryCluster();
    cluster.add('a');
    const b = cluster.add('b', { seeds: ['a:7947'], tags });
    assert.ok(await cluster.clock.advanceUntil(() => cluster.converged(), 30_000), 'both members see each other alive');
    assert.deepEqual(cluster.members.get('a')?.member.core.member('b')?.meta.tags, tags);
    for (const m of cluster.members.values()) assert.deepEqual(m.failures, [], `${m.name}: no failed effects`);
    assert.equal(cluster.net.undecodable, 0, 'every packet survives the codec');
    assert.notEqual(b.member.joinedAt, null);
  });
});
