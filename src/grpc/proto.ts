// Where the .proto files live and how they are loaded at runtime. The generated types in
// ./generated/ come from the same files with the same options (scripts/gen-proto.mjs, GEN_OPTIONS;
// test/grpc/codegen.test.ts holds the two in step).
import { fileURLToPath } from 'node:url';
import { loadSync, type Options } from '@grpc/proto-loader';
import type { ControlPlaneDefinition } from './generated/swimring/v1/ControlPlane.js';

/** Wire protocol version this build speaks (RequestHeader.protocol_version). */
export const PROTOCOL_VERSION = 1;

/** Fully qualified service name: the gRPC path prefix and the health-check service name. */
export const CONTROL_PLANE_SERVICE = 'swimring.v1.ControlPlane';

/**
 * proto/ at the repository root. This module sits at src/grpc/ (run through tsx) or dist/grpc/
 * (after tsc), both two levels below the root, so one relative URL serves both.
 */
export const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url));

export const CONTROL_PLANE_PROTO = 'swimring/v1/control_plane.proto';

/** Must mean the same as GEN_OPTIONS in scripts/gen-proto.mjs, or the generated types lie. */
export const LOADER_OPTIONS: Readonly<Options> = Object.freeze({
  keepCase: false,
  // Exact decimal strings: an incarnation above 2^53 is seen (and refused), not silently rounded.
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});

let cached: ControlPlaneDefinition | undefined;

/** The ControlPlane service with its (de)serializers; loaded once per process. */
export function controlPlaneDefinition(): ControlPlaneDefinition {
  if (cached) return cached;
  const pkg = loadSync(CONTROL_PLANE_PROTO, { ...LOADER_OPTIONS, includeDirs: [PROTO_DIR] });
  const service = pkg[CONTROL_PLANE_SERVICE];
  if (service === undefined || !('Ping' in service)) {
    throw new Error(`${CONTROL_PLANE_SERVICE} not found in ${PROTO_DIR}${CONTROL_PLANE_PROTO}`);
  }
  // proto-loader types its result loosely; the generated definition is its exact shape.
  cached = service as unknown as ControlPlaneDefinition;
  return cached;
}
