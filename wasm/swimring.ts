// The module's entry: everything src/placement/wasm.ts calls.
export { alloc, jump, jump2, jump2Second, jumpReference, release, shard, xxh64 } from './lookup';
export { answer, answerRun, runEnd, useTails } from './answers';
