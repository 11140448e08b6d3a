#!/usr/bin/env bash
# Runs the benchmarks of the README's Benchmarks section at the sizes it
# quotes, writes their output to .local/bench.txt and their table to
# .local/bench.md (infra/local/bench-table.py), and prints the table.
# Needs Azurite (make bench starts it). About 10 minutes on 2 cores.
#   HARVEST_BENCH_N=100000 SWEEP_BENCH_N=100000 infra/local/bench.sh   # the full sizes: hours
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
mkdir -p .local
out=.local/bench.txt
: >"$out"
bench() { # bench PATTERN BENCHTIME PACKAGE [ENV=VALUE...]
  local pattern=$1 benchtime=$2 pkg=$3
  shift 3
  echo "bench: $pkg $pattern" >&2
  env "$@" go test -run '^$' -bench "$pattern" -benchmem -benchtime "$benchtime" -count 1 -timeout 60m "$pkg" | tee -a "$out"
}
bench 'InvocationOverhead|ServeHTTPInProcess' 2000x ./shared/funcapp
bench StartToReady 5x ./functions
bench BatchUpsert 3x ./shared/store
bench Deadline 200000x ./shared/ukdates
bench Evaluate50k 3x ./shared/contracts
bench Push250k 1x ./shared/powerbi
bench 'Harvest10k|HarvestIncremental' 1x ./functions/cloudappharvest "HARVEST_BENCH_N=${HARVEST_BENCH_N:-10000}"
bench Sweep100k 1x ./functions/subjectrequestsweep "SWEEP_BENCH_N=${SWEEP_BENCH_N:-5000}"
bench SubjectRequestIntake 1x ./functions/subjectrequests
python3 infra/local/bench-table.py "$out" | tee .local/bench.md
