#!/bin/sh
# CloudTrail ingestion benchmark: pipeleash vs zcat on the same generated files.
#
#   cargo build --release --no-default-features
#   benches/ingest.sh 1000000 /tmp/ct-1m                                   # 667 files of 1,500 records
#   LAYOUT=delivery DAYS=6 benches/ingest.sh 1000000 /tmp/ct-1m-delivery  # 15,552 files of ~64 records
#
# Generates the set if DIR does not exist yet (`--layout spread`, the default, or `delivery`:
# one file per account, region and 5-minute window). Then, after one warm-up run of each, runs
# the two readers in turn (pipeleash, zcat, pipeleash, …) RUNS times each (default 5) and
# prints, per run, wall time, user+sys CPU time and peak RSS (`/usr/bin/time`), and per pair the
# wall-time ratio pipeleash/zcat; last, the median of each. Pairs taken in turn keep the
# comparison fair when the machine's speed drifts. Generated data stays outside the
# repository.
set -eu
events=$1
dir=$2
runs=${RUNS:-5}
layout=${LAYOUT:-spread}
days=${DAYS:-30}
bin=${PIPELEASH:-target/release/pipeleash}
times=$(mktemp)
trap 'rm -f "$times" "$times".*' EXIT

if [ ! -d "$dir/AWSLogs" ]; then
    "$bin" generate cloudtrail --events "$events" --seed 1 --layout "$layout" --days "$days" \
        --out "$dir" --quiet
fi
files=$(find "$dir/AWSLogs" -name '*.json.gz' | wc -l)
gz_bytes=$(du -sb "$dir/AWSLogs" | cut -f1)
echo "set: $events events, $files files, $gz_bytes compressed bytes; load: $(cut -d' ' -f1-3 /proc/loadavg)"

# One timed run: prints "wall cpu rss_kib".
timed() {
    /usr/bin/time -f "%e %U %S %M" -o "$times.one" sh -c "$1" >/dev/null 2>&1
    read -r wall user sys rss <"$times.one"
    echo "$wall $(echo "$user + $sys" | bc) $rss"
}

run_pipeleash="\"$bin\" usage --cloudtrail \"$dir/AWSLogs\" --format json --quiet"
run_zcat="find \"$dir/AWSLogs\" -name '*.gz' -print0 | xargs -0 zcat | wc -l"

timed "$run_pipeleash" >/dev/null
timed "$run_zcat" >/dev/null
i=0
while [ "$i" -lt "$runs" ]; do
    set -- $(timed "$run_pipeleash")
    p_wall=$1
    echo "pipeleash wall=${1}s cpu=${2}s peak_rss=${3}KiB events_per_s=$(echo "$events / $1" | bc)"
    set -- $(timed "$run_zcat")
    z_wall=$1
    echo "zcat      wall=${1}s cpu=${2}s peak_rss=${3}KiB events_per_s=$(echo "$events / $1" | bc)"
    ratio=$(echo "scale=3; $p_wall / $z_wall" | bc)
    echo "pair $((i + 1)): pipeleash/zcat wall = $ratio"
    echo "$p_wall" >>"$times.p"
    echo "$z_wall" >>"$times.z"
    echo "$ratio" >>"$times.r"
    i=$((i + 1))
done

median() {
    sort -n "$1" | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
echo "median: pipeleash $(median "$times.p") s, zcat $(median "$times.z") s, pipeleash/zcat $(median "$times.r") (zcat's rate × $(echo "scale=2; 1 / $(median "$times.r")" | bc))"
