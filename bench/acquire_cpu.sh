#!/bin/bash
# CPU of `dmacycle run` while it acquires at real speed (issue 19, point 2): the main job
# (hold cut to 0 s) against dmacycle-sim as a separate process at speed 1, through the
# production drivers (scpi-frame over TCP, modbus-furnace over Modbus TCP). After WARMUP_S
# (the equilibration ends ~61 s in), it reads the run's CPU time from /proc over SECONDS and
# prints it as % of one core, per sample rate.
#   bench/acquire_cpu.sh [BUILD_DIR] [SECONDS] [WARMUP_S] [RATE_HZ ...]   (default build 60 90 10 1000)
set -euo pipefail
build=$(realpath "${1:-build}")
seconds=${2:-60}
warmup=${3:-90}
shift $(($# < 3 ? $# : 3))
rates=("${@:-10 1000}")
[ $# -eq 0 ] && rates=(10 1000)
source_dir=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/jobs" "$work/instruments"
cp "$source_dir/config/instruments/sim-la30.yaml" "$work/instruments/"
sed 's/^hold: 10 min/hold: 0 s/' "$source_dir/config/jobs/mode1-0-200.yaml" > "$work/jobs/main.yaml"
ticks=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

for rate in "${rates[@]}"; do
    "$build/bin/dmacycle-sim" --profile "$work/instruments/sim-la30.yaml" --speed 1 \
        > "$work/sim.out" 2>&1 &
    sim=$!
    for _ in $(seq 50); do grep -q furnace "$work/sim.out" && break; sleep 0.1; done
    frame=$(awk '/^frame/ {print $2}' "$work/sim.out")
    furnace=$(awk '/^furnace/ {print $2}' "$work/sim.out")
    printf 'frame:\n  driver: scpi-frame\n  uri: %s\nfurnace:\n  driver: modbus-furnace\n  uri: %s?unit=1\n' \
        "$frame" "$furnace" > "$work/rig.yaml"
    rm -f "$work/run.db"*
    "$build/bin/dmacycle" run "$work/jobs/main.yaml" --db "$work/run.db" --rig "$work/rig.yaml" \
        --sample-rate "$rate" > /dev/null 2>&1 &
    run=$!
    sleep "$warmup"
    before=$(cpu_ticks $run)
    sleep "$seconds"
    after=$(cpu_ticks $run)
    samples=$(sqlite3 "$work/run.db" "SELECT count(*) FROM samples" 2>/dev/null || echo "?")
    kill $run $sim
    wait $run $sim 2>/dev/null || true
    awk -v r="$rate" -v d="$((after - before))" -v t="$ticks" -v s="$seconds" -v n="$samples" \
        'BEGIN {printf "%5s Hz: %.2f %% of a core over %d s (%d ticks of 1/%d s); %s samples stored\n", r, 100 * d / t / s, s, d, t, n}'
done
