// The addon's jump consistent hash (src/placement/native/lookup-core.h) alone, without Node: the floor for
// the JS jump in src/placement/jump.ts on this machine. bench/jump-floor.ts builds and runs it.
// Usage: jump BUCKETS [COUNT] [reference]  ->  {"buckets":B,"count":N,"loop":L,"ns_per_jump":X,"checksum":C}
// "reference" times the paper's loop (jump_reference) instead of the one the addon runs (jump).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../src/placement/native/lookup-core.h"

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  int32_t buckets = (int32_t)strtol(argv[1], NULL, 10);
  long count = argc > 2 ? strtol(argv[2], NULL, 10) : 10000000;
  const int reference = argc > 3 && strcmp(argv[3], "reference") == 0;
  jump_select();
  const char *loop = reference ? "reference" : jump_uses_fma ? "fused" : "reference";
  uint64_t x = 88172645463325252ULL; // xorshift64: keys that are not a pattern the branch predictor learns
  uint64_t checksum = 0;
  struct timespec t0, t1;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
  for (long i = 0; i < count; i++) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    checksum += (uint64_t)(reference ? jump_reference(x, buckets) : jump(x, buckets));
  }
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
  double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / (double)count;
  printf("{\"buckets\":%d,\"count\":%ld,\"loop\":\"%s\",\"ns_per_jump\":%.1f,\"checksum\":%llu}\n", buckets, count, loop, ns, (unsigned long long)checksum);
  return 0;
}
