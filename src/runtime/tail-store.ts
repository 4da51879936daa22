// Where a RouteIndex keeps its cached answer tails (route-index.ts): per shard a tail id (Uint16Array,
// 0 = not cached yet), and per layout every cached tail's bytes back to back in tail order (tail id i's
// run from offsets[i - 1] to offsets[i]). The WebAssembly answer writer reads them from its own memory,
// where WasmTailStore keeps them (so no copy per request); without WebAssembly, JsTailStore keeps them.
import { heap, memoryGeneration, wasmAlloc, type WasmExports } from '../placement/wasm.js';
import type { AnswerLayout } from './view.js';

export interface TailArena {
  readonly bytes: Uint8Array;
  readonly offsets: Uint32Array;
}

export interface TailStore {
  /** Tail id per shard. A view: valid until the next append() (which may move it). */
  ids(): Uint16Array;
  /** Layout's arena: views, valid until the next append(). */
  arena(layout: AnswerLayout): TailArena;
  /** Appends the bytes of the tail with id `id` (one more than the last) in each layout. */
  append(id: number, full: Uint8Array, compact: Uint8Array): void;
  /** Tail id's full bytes, valid for as long as the caller keeps them. */
  fullTail(id: number): Uint8Array;
}

function grown<T extends Uint8Array | Uint32Array>(array: T, need: number, make: (size: number) => T): T {
  if (need <= array.length) return array;
  const bigger = make(Math.max(need, array.length * 2));
  bigger.set(array);
  return bigger;
}

/** Plain typed arrays: without WebAssembly (the serializers' JS code reads them). */
export class JsTailStore implements TailStore {
  private readonly tailIds: Uint16Array;
  private readonly arenas: Record<AnswerLayout, { bytes: Uint8Array; offsets: Uint32Array }> = {
    full: { bytes: new Uint8Array(4096), offsets: new Uint32Array(64) },
    compact: { bytes: new Uint8Array(1024), offsets: new Uint32Array(64) },
  };
  /** fullTail's views by tail id. */
  private readonly fullViews: Uint8Array[] = [];

  constructor(shards: number) {
    this.tailIds = new Uint16Array(shards);
  }

  ids(): Uint16Array {
    return this.tailIds;
  }

  arena(layout: AnswerLayout): TailArena {
    return this.arenas[layout];
  }

  append(id: number, full: Uint8Array, compact: Uint8Array): void {
    for (const [layout, bytes] of [
      ['full', full],
      ['compact', compact],
    ] as const) {
      const arena = this.arenas[layout];
      const start = arena.offsets[id - 1]!;
      arena.bytes = grown(arena.bytes, start + bytes.length, (n) => new Uint8Array(n));
      arena.offsets = grown(arena.offsets, id + 1, (n) => new Uint32Array(n));
      arena.bytes.set(bytes, start);
      arena.offsets[id] = start + bytes.length;
    }
  }

  fullTail(id: number): Uint8Array {
    // A view stays valid when the arena grows: growing copies into a new array and leaves this one as it is.
    const { bytes, offsets } = this.arenas.full;
    return (this.fullViews[id] ??= bytes.subarray(offsets[id - 1]!, offsets[id]!));
  }
}

/** One allocation in the module's memory: its address and size in bytes. */
interface Block {
  at: number;
  size: number;
}

/** A WasmTailStore's blocks; what the finalizer releases when its RouteIndex is collected. */
interface WasmBlocks {
  readonly module: WasmExports;
  ids: Block;
  arenas: Record<AnswerLayout, { bytes: Block; offsets: Block; used: number; count: number }>;
}

const finalizer = new FinalizationRegistry<WasmBlocks>((blocks) => {
  blocks.module.release(blocks.ids.at);
  for (const arena of Object.values(blocks.arenas)) {
    blocks.module.release(arena.bytes.at);
    blocks.module.release(arena.offsets.at);
  }
});

function allocZeroed(module: WasmExports, size: number): Block {
  const at = wasmAlloc(module, size);
  heap.fill(0, at, at + size);
  return { at, size };
}

/** In the WebAssembly module's memory, where its answer writer reads them. */
export class WasmTailStore implements TailStore {
  private readonly blocks: WasmBlocks;
  private readonly shards: number;
  private views: { generation: number; ids: Uint16Array; full: TailArena; compact: TailArena } | null = null;
  /** fullTail's copies by tail id (views into the module's memory would not outlive its growth). */
  private readonly fullCopies: Uint8Array[] = [];

  /** `owner`: the object whose collection releases the blocks (the RouteIndex). */
  constructor(module: WasmExports, shards: number, owner: object) {
    this.shards = shards;
    const arena = (bytes: number): { bytes: Block; offsets: Block; used: number; count: number } => ({ bytes: allocZeroed(module, bytes), offsets: allocZeroed(module, 64 * 4), used: 0, count: 0 });
    this.blocks = { module, ids: allocZeroed(module, Math.ceil(shards / 2) * 4), arenas: { full: arena(4096), compact: arena(1024) } };
    finalizer.register(owner, this.blocks);
  }

  /** Points the module's answer writer at this store's `layout` (wasm/answers.ts useTails). */
  use(layout: AnswerLayout): void {
    const arena = this.blocks.arenas[layout];
    this.blocks.module.useTails(this.blocks.ids.at, this.shards, arena.offsets.at, arena.count + 1, arena.bytes.at, arena.used);
  }

  private current(): NonNullable<WasmTailStore['views']> {
    let views = this.views;
    if (views === null || views.generation !== memoryGeneration) {
      const buffer = heap.buffer;
      const arena = (layout: AnswerLayout): TailArena => {
        const a = this.blocks.arenas[layout];
        return { bytes: new Uint8Array(buffer, a.bytes.at, a.bytes.size), offsets: new Uint32Array(buffer, a.offsets.at, a.offsets.size >>> 2) };
      };
      views = this.views = { generation: memoryGeneration, ids: new Uint16Array(buffer, this.blocks.ids.at, this.shards), full: arena('full'), compact: arena('compact') };
    }
    return views;
  }

  ids(): Uint16Array {
    return this.current().ids;
  }

  arena(layout: AnswerLayout): TailArena {
    return this.current()[layout];
  }

  append(id: number, full: Uint8Array, compact: Uint8Array): void {
    const module = this.blocks.module;
    for (const [layout, bytes] of [
      ['full', full],
      ['compact', compact],
    ] as const) {
      const arena = this.blocks.arenas[layout];
      arena.bytes = this.grownBlock(module, arena.bytes, arena.used + bytes.length);
      arena.offsets = this.grownBlock(module, arena.offsets, (id + 1) * 4);
      heap.set(bytes, arena.bytes.at + arena.used);
      arena.used += bytes.length;
      arena.count = id;
      new Uint32Array(heap.buffer, arena.offsets.at, id + 1)[id] = arena.used;
    }
    this.views = null;
  }

  fullTail(id: number): Uint8Array {
    let copy = this.fullCopies[id];
    if (copy === undefined) {
      const { bytes, offsets } = this.arena('full');
      copy = this.fullCopies[id] = bytes.slice(offsets[id - 1]!, offsets[id]!);
    }
    return copy;
  }

  /** `block`, or a block of at least `need` bytes holding its bytes (the old one released). */
  private grownBlock(module: WasmExports, block: Block, need: number): Block {
    if (need <= block.size) return block;
    const size = Math.max(need, block.size * 2);
    const at = wasmAlloc(module, size);
    heap.copyWithin(at, block.at, block.at + block.size);
    heap.fill(0, at + block.size, at + size);
    module.release(block.at);
    return { at, size };
  }
}
