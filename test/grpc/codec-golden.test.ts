// The codecs generated at build time (src/grpc/generated/control_plane_codec.ts, pbjs static code) are
// wire- and shape-compatible with what @grpc/proto-loader builds at run time from the same .proto with
// the same options: for every message of the proto, the same bytes from the same value, and the same
// JavaScript object from the same bytes. Values are built from the proto's own reflection, so a message or
// field added to the proto is covered without touching this file: every field set (repeated and map
// fields with two entries, 64-bit extremes, the last enum value, nested messages), each oneof member in
// turn, and the empty message.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSync, type MessageTypeDefinition } from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { CONTROL_PLANE_PROTO, CONTROL_PLANE_SERVICE, LOADER_OPTIONS, PROTO_DIR, controlPlaneDefinition, messageCodec } from '../../src/grpc/proto.js';

const reference = loadSync(CONTROL_PLANE_PROTO, { ...LOADER_OPTIONS, includeDirs: [PROTO_DIR] });

/** The same .proto parsed by protobufjs (as proto-loader parses it), to enumerate messages and fields. */
function reflectionRoot(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (target.startsWith('/') ? target : `${PROTO_DIR}${target}`);
  root.loadSync(CONTROL_PLANE_PROTO, { keepCase: false });
  root.resolveAll();
  return root;
}

function messageTypes(ns: protobuf.NamespaceBase): protobuf.Type[] {
  const out: protobuf.Type[] = [];
  for (const child of ns.nestedArray) {
    if (child instanceof protobuf.Type) out.push(child);
    if (child instanceof protobuf.Namespace || child instanceof protobuf.Type) out.push(...messageTypes(child));
  }
  return out;
}

const SCALARS: Record<string, readonly unknown[]> = {
  double: [1.5, -1e300],
  float: [0.25, -3],
  int32: [-5, 2147483647],
  sint32: [-7, -2147483648],
  sfixed32: [-9, 123456],
  uint32: [4000000000, 1],
  fixed32: [4294967295, 7],
  int64: ['-9223372036854775808', '-3'],
  sint64: ['9223372036854775807', '-1'],
  sfixed64: ['-2', '1152921504606846976'],
  uint64: ['18446744073709551615', '1125899906842624'],
  fixed64: ['9007199254740993', '1'],
  bool: [true, false],
  string: ['héllo ✓', 'member-0'],
  bytes: [Buffer.from([0, 1, 2, 255]), Buffer.from('xyz')],
};

function scalarValue(type: string, i: number): unknown {
  const values = SCALARS[type];
  if (values === undefined) throw new Error(`no sample for scalar type ${type}`);
  return values[i % values.length];
}

/** One value of a field; `i` varies repeated entries. Nested messages stop at `depth` 0 (left unset). */
function fieldValue(field: protobuf.Field, i: number, depth: number): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Enum) {
    const names = Object.keys(resolved.values);
    return names[(names.length - 1 - i + names.length) % names.length];
  }
  if (resolved instanceof protobuf.Type) return depth > 0 ? fullValue(resolved, depth - 1, 0) : undefined;
  return scalarValue(field.type, i);
}

/** Every field set; of each oneof, the member `choice` picks (modulo its size). */
function fullValue(type: protobuf.Type, depth: number, choice: number): Record<string, unknown> {
  const value: Record<string, unknown> = {};
  for (const oneof of type.oneofsArray) {
    const chosen = oneof.fieldsArray[choice % oneof.fieldsArray.length];
    for (const f of oneof.fieldsArray) if (f !== chosen) value[`skip:${f.name}`] = true;
  }
  for (const field of type.fieldsArray) {
    if (value[`skip:${field.name}`]) continue;
    if (field instanceof protobuf.MapField) {
      value[field.name] = { a: fieldValue(field, 0, depth), b: fieldValue(field, 1, depth) };
    } else if (field.repeated) {
      value[field.name] = [fieldValue(field, 0, depth), fieldValue(field, 1, depth)].filter((v) => v !== undefined);
    } else {
      const v = fieldValue(field, 0, depth);
      if (v !== undefined) value[field.name] = v;
    }
  }
  for (const key of Object.keys(value)) if (key.startsWith('skip:')) delete value[key];
  return value;
}

function samples(type: protobuf.Type): { name: string; value: Record<string, unknown> }[] {
  const out = [{ name: 'empty', value: {} }, { name: 'full', value: fullValue(type, 3, 0) }];
  const widest = Math.max(0, ...type.oneofsArray.map((o) => o.fieldsArray.length));
  for (let choice = 1; choice < widest; choice++) out.push({ name: `oneof member ${choice}`, value: fullValue(type, 3, choice) });
  return out;
}

const root = reflectionRoot();
const types = messageTypes(root);

describe('generated protobuf codecs against @grpc/proto-loader', () => {
  test('the proto has messages to compare, and every one has a generated codec', () => {
    assert.ok(types.length >= 40, `only ${types.length} message types found`);
    for (const type of types) assert.doesNotThrow(() => messageCodec(type.fullName.slice(1)), type.fullName);
  });

  for (const type of types) {
    const fullName = type.fullName.slice(1);
    test(`${fullName}: same bytes from the same value, same object from the same bytes`, () => {
      const expected = reference[fullName] as MessageTypeDefinition<object, object> | undefined;
      assert.ok(expected?.serialize, `proto-loader has no message ${fullName}`);
      const codec = messageCodec(fullName);
      for (const { name, value } of samples(type)) {
        const want = expected.serialize(value);
        const got = Buffer.from(codec.encode(codec.fromObject(value)).finish());
        assert.equal(got.toString('hex'), Buffer.from(want).toString('hex'), `${name}: bytes differ`);
        if (name === 'full') assert.ok(want.length > 0 || type.fieldsArray.length === 0, `${name}: nothing encoded`);
        const decodedWant = expected.deserialize(Buffer.from(want));
        const decodedGot = codec.toObject(codec.decode(want), LOADER_OPTIONS);
        assert.deepStrictEqual(decodedGot, decodedWant, `${name}: decoded objects differ`);
        // What a handler gets back (defaults filled in, so zeros are now set fields) encodes alike too.
        assert.equal(
          Buffer.from(codec.encode(codec.fromObject(decodedGot)).finish()).toString('hex'),
          Buffer.from(expected.serialize(decodedWant)).toString('hex'),
          `${name}: decoded value re-encodes differently`,
        );
      }
    });
  }

  test('the service definition matches proto-loader\'s: paths, streaming, client aliases, and round trips', () => {
    const want = reference[CONTROL_PLANE_SERVICE] as Record<string, {
      path: string; requestStream: boolean; responseStream: boolean; originalName?: string;
      requestSerialize: (v: object) => Buffer; responseDeserialize: (b: Buffer) => object;
    }>;
    const got = controlPlaneDefinition() as unknown as typeof want;
    assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort());
    for (const [name, w] of Object.entries(want)) {
      const g = got[name];
      assert.ok(g, name);
      assert.deepEqual(
        { path: g.path, requestStream: g.requestStream, responseStream: g.responseStream, originalName: g.originalName },
        { path: w.path, requestStream: w.requestStream, responseStream: w.responseStream, originalName: w.originalName },
        name,
      );
      assert.ok(Buffer.isBuffer(g.requestSerialize({})), `${name}: serializer gives a Buffer`);
      assert.deepStrictEqual(g.responseDeserialize(Buffer.alloc(0)), w.responseDeserialize(Buffer.alloc(0)), `${name}: empty reply`);
    }
  });
});
