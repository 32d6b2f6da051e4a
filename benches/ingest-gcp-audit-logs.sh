#!/bin/sh
# Cloud Audit Logs ingestion benchmark: pipeleash vs zcat (or cat) on the same generated files.
#
#   cargo build --release --no-default-features
#   benches/ingest-gcp-audit-logs.sh 1000000 /tmp/gcp-1m          # .json.gz, compared with zcat
#   GZIP=no benches/ingest-gcp-audit-logs.sh 1000000 /tmp/gcp-1m-plain   # .json, compared with cat
#
# Generates the set if DIR does not exist yet (one file per audit log and hour over DAYS days,
# default 7). Then, after one warm-up run of each, runs the two readers in turn (pipeleash,
# zcat, pipeleash, …) RUNS times each (default 5) and prints, per run, wall time, user+sys CPU
# time and peak RSS (`/usr/bin/time`), the wall-time ratio of each pair, and the medians.
# Generated data stays outside the repository.
set -eu
entries=$1
dir=$2
runs=${RUNS:-5}
days=${DAYS:-7}
gzip=${GZIP:-yes}
bin=${PIPELEASH:-target/release/pipeleash}
times=$(mktemp)
trap 'rm -f "$times" "$times".*' EXIT

if [ ! -d "$dir/cloudaudit.googleapis.com" ]; then
    flag=""
    [ "$gzip" = yes ] && flag="--gzip"
    "$bin" generate gcp-audit-logs --entries "$entries" --seed 1 --days "$days" $flag \
        --out "$dir" --quiet
fi
logs="$dir/cloudaudit.googleapis.com"
files=$(find "$logs" -name '*.json*' | wc -l)
bytes=$(du -sb "$logs" | cut -f1)
echo "set: $entries entries, $files files, $bytes bytes on disk; load: $(cut -d' ' -f1-3 /proc/loadavg)"

timed() {
    /usr/bin/time -f "%e %U %S %M" -o "$times.one" sh -c "$1" >/dev/null 2>&1
    read -r wall user sys rss <"$times.one"
    echo "$wall $(echo "$user + $sys" | bc) $rss"
}

run_pipeleash="\"$bin\" usage --gcp-audit-logs \"$dir\" --format json --quiet"
if [ "$gzip" = yes ]; then
    other=zcat
    run_other="find \"$logs\" -name '*.json.gz' -print0 | xargs -0 zcat | wc -l"
else
    other=cat
    run_other="find \"$logs\" -name '*.json' -print0 | xargs -0 cat | wc -l"
fi

timed "$run_pipeleash" >/dev/null
timed "$run_other" >/dev/null
i=0
while [ "$i" -lt "$runs" ]; do
    set -- $(timed "$run_pipeleash")
    p_wall=$1
    echo "pipeleash wall=${1}s cpu=${2}s peak_rss=${3}KiB entries_per_s=$(echo "$entries / $1" | bc)"
    set -- $(timed "$run_other")
    o_wall=$1
    echo "$other wall=${1}s cpu=${2}s peak_rss=${3}KiB entries_per_s=$(echo "$entries / $1" | bc)"
    ratio=$(echo "scale=3; $p_wall / $o_wall" | bc)
    echo "pair $((i + 1)): pipeleash/$other wall = $ratio"
    echo "$p_wall" >>"$times.p"
    echo "$o_wall" >>"$times.o"
    echo "$ratio" >>"$times.r"
    i=$((i + 1))
done

median() {
    sort -n "$1" | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
echo "median: pipeleash $(median "$times.p") s, $other $(median "$times.o") s, pipeleash/$other $(median "$times.r") ($other's rate × $(echo "scale=2; 1 / $(median "$times.r")" | bc))"
