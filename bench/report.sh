#!/bin/sh
# report.sh — `make bench-report`: regenerates the measured parts of
# docs/performance.md and the plots in docs/img/, in one command.
#
#     make bench-report            (B=build: binaries in $B)
#
# Runs, in order: bench (every case and curve, curve data for gnuplot),
# callgrind.sh (instructions per event), hyperfine.sh (dt replay beside jq
# and mlr over 1,000,000 lines), lttng.sh (the LTTng-UST peer). Each result
# replaces the text between <!-- bench:NAME --> and <!-- /bench:NAME --> in
# docs/performance.md; the prose around the markers is written by hand.
# Takes several minutes; not run in CI (CI runs `make bench-smoke`).
# Installs what is missing (Debian packages) when run as root.
# REPORT_QUICK=1 runs everything briefly (to try the script, not to publish).
set -eu
B=${B:-build}
CC=${CC:-cc}
DOC=docs/performance.md
IMG=docs/img
RUNS=${HYPERFINE_RUNS:-3}
LINES=1000000
CG_N=20000
QUICK=
if [ "${REPORT_QUICK:-0}" = 1 ]; then QUICK=--quick; RUNS=2; LINES=20000; CG_N=2000; fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

install_missing() {
  need=
  command -v gnuplot >/dev/null || need="$need gnuplot-nox"
  command -v hyperfine >/dev/null || need="$need hyperfine"
  command -v jq >/dev/null || need="$need jq"
  command -v mlr >/dev/null || need="$need miller"
  command -v valgrind >/dev/null || need="$need valgrind"
  command -v lttng >/dev/null || need="$need lttng-tools"
  found=
  for h in /usr/include/lttng/tracepoint.h /usr/include/*/lttng/tracepoint.h; do [ -e "$h" ] && found=1; done
  [ -n "$found" ] || need="$need liblttng-ust-dev"
  [ -z "$need" ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing:$need"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
  else
    echo "== missing:$need (install them; the sections that need them say skipped)"
  fi
}

machine() {
  cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
  os=$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")
  rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  git diff --quiet HEAD -- dt.h dt_query.h dt_stateful.h bench 2>/dev/null || rev="$rev + local changes"
  echo "| | |"
  echo "|---|---|"
  echo "| CPU | ${cpu:-unknown}, $(nproc) CPUs |"
  echo "| OS, kernel | ${os:-unknown}, $(uname -sr) |"
  echo "| compiler | $($CC --version | head -n 1), \`-std=c99 -O2 -g -pthread\` |"
  echo "| commit | \`$rev\` |"
  echo "| date | $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg) before the run |"
}

# fill NAME FILE: the text between the NAME markers becomes FILE.
fill() {
  awk -v name="$1" -v file="$2" '
    $0 == "<!-- bench:" name " -->" { print; while ((getline line < file) > 0) print line; skip = 1; next }
    $0 == "<!-- /bench:" name " -->" { skip = 0 }
    !skip { print }' "$DOC" > "$TMP/doc"
  grep -q "^<!-- bench:$1 -->" "$DOC" || echo "report: $DOC has no <!-- bench:$1 --> marker" >&2
  cp "$TMP/doc" "$DOC"
}

install_missing
make -s B="$B" "$B/bench" "$B/dt"
machine > "$TMP/machine.md"

echo "== bench (about a minute)"
mkdir -p "$TMP/data" "$IMG"
"$B/bench" $QUICK --data "$TMP/data" > "$TMP/bench.txt" || echo "report: bench reported failed checks (see the table)" >&2
sed '/^### Scaling curves/,$d' "$TMP/bench.txt" > "$TMP/cases.md"
sed -n '/^### Scaling curves/,$p' "$TMP/bench.txt" | sed 1d > "$TMP/curves.md"
if command -v gnuplot >/dev/null; then
  for gp in "$TMP"/data/*.gp; do
    plot=$(basename "$gp" .gp)
    (cd "$TMP/data" && { cat "$plot.gp"; echo; } | gnuplot) && cp "$TMP/data/$plot.png" "$IMG/" &&
      printf '\n![%s](img/%s.png)\n' "$plot" "$plot" >> "$TMP/curves.md"
  done
else
  echo "(plots skipped: gnuplot is not installed)" >> "$TMP/curves.md"
fi

echo "== callgrind (a few minutes)"
B="$B" sh bench/callgrind.sh "$CG_N" > "$TMP/callgrind.md"

echo "== hyperfine (a few minutes)"
DT="$B/dt" sh bench/hyperfine.sh --lines "$LINES" --runs "$RUNS" --out "$TMP/hf" > "$TMP/hyperfine.md"

echo "== LTTng-UST peer"
B="$B" CC="$CC" sh bench/lttng.sh $QUICK > "$TMP/lttng.md" || echo "report: the LTTng peer reported failed checks" >&2

for s in machine cases curves callgrind hyperfine lttng; do fill "$s" "$TMP/$s.md"; done
echo "== $DOC and $IMG/ updated"
