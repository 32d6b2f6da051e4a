#!/bin/sh
# CloudTrail ingestion benchmark: pipeleash vs zcat on the same generated files.
#
#   cargo build --release
#   benches/ingest.sh 1000000 /tmp/ct-1m
#   benches/ingest.sh 5000000 /tmp/ct-5m
#
# Generates the set if DIR does not exist yet, then runs each reader RUNS times (default 3)
# and prints wall time, user+sys CPU time and peak RSS of every run. Generated data stays
# outside the repository.
set -eu
events=$1
dir=$2
runs=${RUNS:-3}
bin=${PIPELEASH:-target/release/pipeleash}

if [ ! -d "$dir/AWSLogs" ]; then
    "$bin" generate cloudtrail --events "$events" --seed 1 --out "$dir" --quiet
fi
files=$(find "$dir/AWSLogs" -name '*.json.gz' | wc -l)
gz_bytes=$(du -sb "$dir/AWSLogs" | cut -f1)
echo "set: $events events, $files files, $gz_bytes compressed bytes"

measure() {
    label=$1
    shift
    i=0
    while [ "$i" -lt "$runs" ]; do
        /usr/bin/time -f "%e %U %S %M" -o /tmp/pipeleash-bench-time "$@" >/dev/null 2>&1
        read -r wall user sys rss </tmp/pipeleash-bench-time
        echo "$label wall=${wall}s cpu=$(echo "$user + $sys" | bc)s peak_rss=${rss}KiB events_per_s=$(echo "$events / $wall" | bc)"
        i=$((i + 1))
    done
}

measure pipeleash "$bin" usage --cloudtrail "$dir/AWSLogs" --format json --quiet
measure zcat sh -c "find '$dir/AWSLogs' -name '*.gz' -print0 | xargs -0 zcat | wc -l"
