#!/bin/sh
# Azure Activity Log ingestion benchmark: `pipeleash usage --azure-activity-logs` vs `cat`
# (plain `PT1H.json` blobs) and vs `zcat` (the same records as `PT1H.json.gz`).
#
#   cargo build --release --no-default-features
#   benches/azure-activity-logs.sh 1000000 /tmp/az-1m     # 7 days, 2 subscriptions: 338 blobs
#
# Generates both sets under DIR (`plain/`, `gz/`) if missing, with the same seed, so both hold
# the same records. After one warm-up run of each reader, runs the pairs in turn
# (pipeleash plain, cat, pipeleash gz, zcat) RUNS times (default 3), printing wall time,
# user+sys CPU time and peak RSS of each (`/usr/bin/time`) and the rate in uncompressed
# MB/s; last, the median wall time of each. Generated data stays outside the repository;
# delete DIR afterwards (1M records are ~2.1 GB plain).
set -eu
records=$1
dir=$2
runs=${RUNS:-3}
days=${DAYS:-7}
bin=${PIPELEASH:-target/release/pipeleash}
times=$(mktemp)
trap 'rm -f "$times" "$times".*' EXIT

[ -d "$dir/plain/insights-activity-logs" ] ||
    "$bin" generate azure-activity-logs --events "$records" --seed 1 --days "$days" \
        --out "$dir/plain" --quiet
[ -d "$dir/gz/insights-activity-logs" ] ||
    "$bin" generate azure-activity-logs --events "$records" --seed 1 --days "$days" --gzip \
        --out "$dir/gz" --quiet
plain="$dir/plain/insights-activity-logs"
gz="$dir/gz/insights-activity-logs"
files=$(find "$plain" -name 'PT1H.json' | wc -l)
bytes=$(find "$plain" -name 'PT1H.json' -print0 | xargs -0 cat | wc -c)
gz_bytes=$(find "$gz" -name 'PT1H.json.gz' -print0 | xargs -0 cat | wc -c)
echo "set: $records records, $files blobs, $bytes bytes plain, $gz_bytes bytes gzip'd;" \
    "cores: $(nproc); load: $(cut -d' ' -f1-3 /proc/loadavg)"

# One timed run: prints "wall cpu rss_kib".
timed() {
    /usr/bin/time -f "%e %U %S %M" -o "$times.one" sh -c "$1" >/dev/null 2>&1
    read -r wall user sys rss <"$times.one"
    echo "$wall $(echo "$user + $sys" | bc) $rss"
}

run_pipeleash_plain="\"$bin\" usage --azure-activity-logs \"$plain\" --format json --quiet"
run_cat="find \"$plain\" -name PT1H.json -print0 | xargs -0 cat | wc -l"
run_pipeleash_gz="\"$bin\" usage --azure-activity-logs \"$gz\" --format json --quiet"
run_zcat="find \"$gz\" -name PT1H.json.gz -print0 | xargs -0 zcat | wc -l"

for reader in pipeleash_plain cat pipeleash_gz zcat; do
    eval "timed \"\$run_$reader\"" >/dev/null
done
i=0
while [ "$i" -lt "$runs" ]; do
    for reader in pipeleash_plain cat pipeleash_gz zcat; do
        eval "set -- \$(timed \"\$run_$reader\")"
        echo "$reader wall=${1}s cpu=${2}s peak_rss=${3}KiB MB_per_s=$(echo "$bytes / 1000000 / $1" | bc)"
        echo "$1" >>"$times.$reader"
    done
    i=$((i + 1))
done
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for reader in pipeleash_plain cat pipeleash_gz zcat; do
    echo "median $reader wall=$(median "$times.$reader")s"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
