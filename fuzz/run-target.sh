#!/bin/sh
# run-target.sh FUZZER SEEDS WORK SECONDS [libFuzzer options...]
#
# One bounded libFuzzer run, as ctest runs it: on a fresh copy of the
# seed corpus in the build tree (the repository's corpus is never written
# to), crashes kept in WORK/artifacts.  Passes when libFuzzer ran out its
# time ("Done N runs in S second(s)"); fails on anything it found.
set -eu
fuzzer=$1 seeds=$2 work=$3 seconds=$4
shift 4

rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
cp "$seeds"/* "$work/corpus/"
"$fuzzer" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=1024 \
	-print_final_stats=1 -artifact_prefix="$work/artifacts/" "$@" \
	"$work/corpus" 2>"$work/log" || {
	cat "$work/log" >&2
	echo "run-target: $(basename "$fuzzer") failed; reproducer(s):" >&2
	ls "$work/artifacts" >&2
	exit 1
}
grep -E '^#[0-9]+.*(INITED|DONE)|^Done [0-9]+ runs|stat::number_of_executed_units' \
	"$work/log"
grep -q '^Done [0-9]* runs' "$work/log"
