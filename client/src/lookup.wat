;; shard(len, buckets) = jump(XXH64(seed 0, memory[0 .. len)), buckets): the sidecar's key -> shard
;; (docs/placement.md, sections 1 and 2) with the 64-bit multiplies the CPU has, which JavaScript has not
;; (its emulation on 32-bit halves is most of a lookup). Assembled by scripts/gen-wasm.mjs into
;; lookup-wasm.ts; checked against the JS implementation and the shared vectors (test/client/lookup.test.ts).
(module
  (memory (export "memory") 1)
  (global $P1 i64 (i64.const 0x9E3779B185EBCA87))
  (global $P2 i64 (i64.const 0xC2B2AE3D27D4EB4F))
  (global $P3 i64 (i64.const 0x165667B19E3779F9))
  (global $P4 i64 (i64.const 0x85EBCA77C2B2AE63))
  (global $P5 i64 (i64.const 0x27D4EB2F165667C5))

  (func $round (param $acc i64) (param $input i64) (result i64)
    (i64.mul
      (i64.rotl (i64.add (local.get $acc) (i64.mul (local.get $input) (global.get $P2))) (i64.const 31))
      (global.get $P1)))

  (func $merge (param $h i64) (param $v i64) (result i64)
    (i64.add
      (i64.mul (i64.xor (local.get $h) (call $round (i64.const 0) (local.get $v))) (global.get $P1))
      (global.get $P4)))

  (func $xxh64 (param $len i32) (result i64)
    (local $p i32) (local $end i32) (local $limit i32) (local $h i64)
    (local $v1 i64) (local $v2 i64) (local $v3 i64) (local $v4 i64)
    (local.set $end (local.get $len))
    (if (i32.ge_u (local.get $len) (i32.const 32))
      (then
        (local.set $v1 (i64.add (global.get $P1) (global.get $P2)))
        (local.set $v2 (global.get $P2))
        (local.set $v3 (i64.const 0))
        (local.set $v4 (i64.sub (i64.const 0) (global.get $P1)))
        (local.set $limit (i32.sub (local.get $end) (i32.const 32)))
        (loop $stripes
          (local.set $v1 (call $round (local.get $v1) (i64.load (local.get $p))))
          (local.set $v2 (call $round (local.get $v2) (i64.load offset=8 (local.get $p))))
          (local.set $v3 (call $round (local.get $v3) (i64.load offset=16 (local.get $p))))
          (local.set $v4 (call $round (local.get $v4) (i64.load offset=24 (local.get $p))))
          (local.set $p (i32.add (local.get $p) (i32.const 32)))
          (br_if $stripes (i32.le_u (local.get $p) (local.get $limit))))
        (local.set $h
          (i64.add
            (i64.add (i64.rotl (local.get $v1) (i64.const 1)) (i64.rotl (local.get $v2) (i64.const 7)))
            (i64.add (i64.rotl (local.get $v3) (i64.const 12)) (i64.rotl (local.get $v4) (i64.const 18)))))
        (local.set $h (call $merge (local.get $h) (local.get $v1)))
        (local.set $h (call $merge (local.get $h) (local.get $v2)))
        (local.set $h (call $merge (local.get $h) (local.get $v3)))
        (local.set $h (call $merge (local.get $h) (local.get $v4))))
      (else (local.set $h (global.get $P5))))
    (local.set $h (i64.add (local.get $h) (i64.extend_i32_u (local.get $len))))
    (block $done8
      (loop $eights
        (br_if $done8 (i32.gt_u (i32.add (local.get $p) (i32.const 8)) (local.get $end)))
        (local.set $h
          (i64.add
            (i64.mul
              (i64.rotl (i64.xor (local.get $h) (call $round (i64.const 0) (i64.load (local.get $p)))) (i64.const 27))
              (global.get $P1))
            (global.get $P4)))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (br $eights)))
    (if (i32.le_u (i32.add (local.get $p) (i32.const 4)) (local.get $end))
      (then
        (local.set $h
          (i64.add
            (i64.mul
              (i64.rotl
                (i64.xor (local.get $h) (i64.mul (i64.load32_u (local.get $p)) (global.get $P1)))
                (i64.const 23))
              (global.get $P2))
            (global.get $P3)))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))))
    (block $done1
      (loop $ones
        (br_if $done1 (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $h
          (i64.mul
            (i64.rotl (i64.xor (local.get $h) (i64.mul (i64.load8_u (local.get $p)) (global.get $P5))) (i64.const 11))
            (global.get $P1)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $ones)))
    (local.set $h (i64.xor (local.get $h) (i64.shr_u (local.get $h) (i64.const 33))))
    (local.set $h (i64.mul (local.get $h) (global.get $P2)))
    (local.set $h (i64.xor (local.get $h) (i64.shr_u (local.get $h) (i64.const 29))))
    (local.set $h (i64.mul (local.get $h) (global.get $P3)))
    (i64.xor (local.get $h) (i64.shr_u (local.get $h) (i64.const 32))))

  ;; Lamping and Veach's loop, as the paper's C++: the double operations and the truncation are the same.
  (func $jump (param $key i64) (param $buckets i32) (result i32)
    (local $b i64) (local $j i64) (local $n i64)
    (local.set $b (i64.const -1))
    (local.set $n (i64.extend_i32_u (local.get $buckets)))
    (block $out
      (loop $next
        (br_if $out (i64.ge_s (local.get $j) (local.get $n)))
        (local.set $b (local.get $j))
        (local.set $key (i64.add (i64.mul (local.get $key) (i64.const 2862933555777941757)) (i64.const 1)))
        (local.set $j
          (i64.trunc_sat_f64_s
            (f64.mul
              (f64.convert_i64_s (i64.add (local.get $b) (i64.const 1)))
              (f64.div
                (f64.const 2147483648)
                (f64.convert_i64_s (i64.add (i64.shr_u (local.get $key) (i64.const 33)) (i64.const 1)))))))
        (br $next)))
    (i32.wrap_i64 (local.get $b)))

  (func (export "shard") (param $len i32) (param $buckets i32) (result i32)
    (call $jump (call $xxh64 (local.get $len)) (local.get $buckets)))

  ;; The hash itself, as two u32 halves in memory at `at` (low word first), for tests.
  (func (export "hash") (param $len i32) (param $at i32)
    (i64.store (local.get $at) (call $xxh64 (local.get $len)))))
