/**
 * The V8 flags every Steward process starts with: in the shebang of bin/steward.js (`npx steward`), in the `steward`
 * and `start` scripts of package.json, and in the Docker image's ENTRYPOINT (test/cli/node-flags.test.ts checks that
 * they agree). Node accepts them only on its command line, not in NODE_OPTIONS nor from a running process.
 *
 * `--initial-old-space-size=256`: V8 lets the old generation grow to 256 MB before its first full collection and does
 * not lower that limit after one. A worker at half load promotes about 10 MB/s of short-lived objects (member profile
 * updates, job data, Redis replies) while about 33 MB stays live; with V8's own limit (live size × 1.6 or so) its main
 * thread ran a full collection every 2-3 s, 2-15 ms of pause plus incremental steps, and the slowest messages of a
 * run lined up with them. With this flag one comes every 20 s or so. It costs memory: the worker's RSS was 681 MB
 * after warm-up instead of 624, and the old generation may hold up to 256 MB before it is collected.
 * `bash bench/pairs.sh 4 540 "BENCH_NODE_FLAGS=0" "BENCH_NODE_FLAGS=1"` compares the tail without and with them.
 */
export const NODE_FLAGS: readonly string[] = ['--initial-old-space-size=256'];
