#!/usr/bin/env bash
# Interleaved pairs of `bench/queue-latency.ts` runs under two environments, A then B in each pair, so that a noisy
# machine treats both settings alike (one run's p99 moves by 2-3x with the machine; see bench/README.md):
#
#   bash bench/pairs.sh PAIRS RATE "VAR=a [VAR2=…]" "VAR=b [VAR2=…]"
#   e.g. bash bench/pairs.sh 4 450 "STEWARD_THREAD_NICE=0" "STEWARD_THREAD_NICE=10"
#
# The worker process inherits the environment. Each line: pair, arm, its settings, p99 / p50 (ms) of the Poisson phase
# at RATE msg/s, and the scheduler's figures for the worker at that load. REDIS_URL defaults to 127.0.0.1:6379.
set -euo pipefail
if [ $# -ne 4 ]; then
  echo 'usage: bash bench/pairs.sh PAIRS RATE "ENV_A" "ENV_B"' >&2
  exit 2
fi
PAIRS=$1 RATE=$2 A=$3 B=$4
cd "$(dirname "$0")/.."
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
for i in $(seq 1 "$PAIRS"); do
  for arm in A B; do
    settings=$A
    [ "$arm" = B ] && settings=$B
    # shellcheck disable=SC2086 # the settings are VAR=value words
    out=$(env $settings npx tsx bench/queue-latency.ts --rate "$RATE" 2>&1 | grep -v 'npm warn')
    figures=$(echo "$out" | tail -1 | node -e 'const d = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(`p99 ${d.p99_ms.toFixed(1)} / p50 ${d.p50_ms.toFixed(1)} ms`)')
    use=$(echo "$out" | grep 'worker at 50 % load' | grep -o '(main thread on a CPU.*' || true)
    echo "pair $i arm $arm [$settings] $figures $use"
  done
done
