// The protocol versions this process speaks. Every build so far speaks 1-1; the test-only switch
// (TEST_VERSIONS_ENV, docs/wire.md) lets an integration test start a member of a "newer build" that
// also speaks the test-only version 2. Read once, when the process loads this module.
import { spokenRangeFromSwitch, TEST_VERSIONS_ENV, type VersionRange } from './protocol-version.js';

export const SPOKEN_RANGE: VersionRange = spokenRangeFromSwitch(globalThis.process?.env[TEST_VERSIONS_ENV]);
