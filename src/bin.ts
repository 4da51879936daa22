#!/usr/bin/env node
// The package's bin (dist/main.cjs, and the same as an ES module in dist/main.js, both built from this
// file by scripts/build-bundle.mjs): runs the command
// line bundled into dist/bundle/main.cjs, the agent from V8's code cache (src/cli/code-cache.ts).
// The agent's V8 flags are set here, before the bundle is compiled: a code cache holds the flags it
// was made under, and the cache is made by an agent that has set them.
import { fileURLToPath } from 'node:url';
import { runBundle } from './cli/code-cache.js';
import { enableHeapCompaction, tuneHeapForAgent } from './runtime/heap-tuning.js';

const agent = process.argv[2] === 'agent';
if (agent) {
  tuneHeapForAgent();
  enableHeapCompaction();
}
runBundle(fileURLToPath(new URL('./bundle/main.cjs', import.meta.url)), { useCache: agent });
