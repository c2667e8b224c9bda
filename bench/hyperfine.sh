#!/bin/sh
# hyperfine.sh — whole commands: `dt replay` beside jq and mlr (Miller)
# doing the same work on the same generated event file, in one run.
#
#     sh bench/hyperfine.sh [--lines N] [--runs N] [--out DIR]
#
# Two jobs over N lines (default 1,000,000) of JSON events, half of them
# "Noise" events and half "Request" events with one of 1,000 routes:
#   drop      print every event except the Noise ones
#   count-by  count the Request events per route
# The input is read once before timing (the same-work check), so every
# command finds it in the page cache; no warm-up runs.
# Prints hyperfine's Markdown table per job, the ratios to dt, and checks
# that the three tools produced the same amount of output (same work).
# Needs the dt binary ($DT, default $B/dt, B=build) and hyperfine, jq, mlr
# (Debian packages of those names; bench/report.sh installs them).
set -eu

LINES=1000000
RUNS=5
OUT=${TMPDIR:-/tmp}/dt-hyperfine
while [ $# -gt 0 ]; do
  case "$1" in
    --lines) LINES=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "usage: $0 [--lines N] [--runs N] [--out DIR]" >&2; exit 2 ;;
  esac
done
DT=${DT:-${B:-build}/dt}
for tool in hyperfine jq mlr "$DT"; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "$tool" ] || { echo "hyperfine.sh: skipped: $tool not found (apt-get install hyperfine jq miller; make $DT)"; exit 0; }
done
mkdir -p "$OUT"
EV=$OUT/events-$LINES.jsonl

# Events 1 ms apart from t = 1 ms: the whole file falls in one 1-hour window.
if [ ! -s "$EV" ]; then
  awk -v n="$LINES" 'BEGIN {
    for (i = 1; i <= n; i++) {
      if (i % 2) printf "{\"name\":\"Noise\",\"ts\":%d,\"level\":\"debug\",\"tid\":1,\"n\":%d}\n", i * 1000000, i;
      else printf "{\"name\":\"Request\",\"ts\":%d,\"level\":\"info\",\"tid\":2,\"route\":\"/api/r%d\",\"status\":200}\n", i * 1000000, (int(i / 2) * 7919) % 1000;
    }
  }' > "$EV"
fi

# Programs: the query processor when this dt has it, else the core's level
# rule for the drop (count-by needs the query processor).
printf 'query d = Noise | drop\n' > "$OUT/drop.dt"
printf 'query c = Request | summarize n = count() by route every 1h\n' > "$OUT/countby.dt"
HAVE_QUERY=1
"$DT" check "$OUT/drop.dt" >/dev/null 2>&1 || { HAVE_QUERY=0; printf 'level Noise = off\n' > "$OUT/drop.dt"; }

JQ_DROP="jq -c 'select(.name != \"Noise\")' $EV"
MLR_DROP="mlr --ijsonl --ojsonl filter '\$name != \"Noise\"' $EV"
DT_DROP="$DT replay $OUT/drop.dt $EV"
# jq's fastest count-by here: slurp and group (the reduce idiom,
# `reduce inputs as $e ({}; .[$e.route] += 1)`, copies the object per line:
# 4x slower at 100,000 lines, and worse as lines grow).
JQ_COUNT="jq -s -c 'map(select(.name == \"Request\")) | group_by(.route) | map({key: .[0].route, value: length}) | from_entries' $EV"
MLR_COUNT="mlr --ijsonl --ojsonl filter '\$name == \"Request\"' then count -g route $EV"
DT_COUNT="$DT replay $OUT/countby.dt $EV"

# Same work: each command prints a count of its output (lines, metric
# points, keys of jq's one object); all three must agree.
check_same() {
  a=$(sh -c "$1"); b=$(sh -c "$2"); c=$(sh -c "$3")
  if [ "$a" = "$b" ] && [ "$b" = "$c" ]; then echo "same work: $4 ($a each)"; else echo "OUTPUT DIFFERS: $4: dt $a, mlr $b, jq $c"; fi
}

# hyperfine JSON: each command's mean over dt's (the first), wall clock and
# CPU (user + system: steadier when neighbours load the machine).
ratios() {
  jq -r '.results as $r | $r[0] as $dt | $r[1:][] |
    "- \(.command): \(.mean / $dt.mean * 100 | round / 100)x the wall time of dt (\(.mean * 1000 | round) ms vs \($dt.mean * 1000 | round) ms), \((.user + .system) / ($dt.user + $dt.system) * 100 | round / 100)x its CPU time"' "$1"
}

# timed NAME DT JQ MLR: the three commands in one hyperfine run, its
# Markdown table and the ratios.
timed() {
  hyperfine --style basic --runs "$RUNS" --export-json "$OUT/$1.json" --export-markdown "$OUT/$1.md" \
    -n dt "$2 > /dev/null" -n jq "$3 > /dev/null" -n mlr "$4 > /dev/null" >/dev/null
  echo; cat "$OUT/$1.md"; echo; ratios "$OUT/$1.json"
}

echo "hyperfine: $LINES lines ($(du -h "$EV" | cut -f1)), $RUNS runs each, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "### drop ($( [ $HAVE_QUERY = 1 ] && echo 'query d = Noise | drop' || echo 'level Noise = off (dt without dt_query.h)'))"
echo
check_same "$DT_DROP | wc -l" "$MLR_DROP | wc -l" "$JQ_DROP | wc -l" "drop"
timed drop "$DT_DROP" "$JQ_DROP" "$MLR_DROP"

echo
if [ $HAVE_QUERY = 1 ]; then
  echo "### count-by (query c = Request | summarize n = count() by route every 1h)"
  echo
  check_same "$DT_COUNT | grep -c '\"type\":\"metric\"'" "$MLR_COUNT | wc -l" "$JQ_COUNT | jq length" "count-by"
  timed countby "$DT_COUNT" "$JQ_COUNT" "$MLR_COUNT"
else
  echo "### count-by: skipped: this dt has no query processor (dt_query.h)"
fi
