#!/usr/bin/env bash
# CI for the firmware example (examples/firmware): builds it for a Cortex-M3
# with arm-none-eabi-gcc, runs it under qemu-system-arm (MPS2 AN385), and
# diffs its replay of examples/firmware/events.jsonl against `dt replay
# --self` of the same program and events on the host. Built twice: with
# floating point and with DT_NO_FLOAT=1. Then prints the size report.
# Installs the toolchain and qemu when missing. Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
out=build/embedded
fw=examples/firmware

need=()
command -v arm-none-eabi-gcc >/dev/null || need+=(gcc-arm-none-eabi)
[ -f /usr/lib/arm-none-eabi/newlib/libc.a ] || need+=(libnewlib-arm-none-eabi)
command -v qemu-system-arm >/dev/null || need+=(qemu-system-arm)
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing: ${need[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

mkdir -p "$out"
make -s B="$out" "$out/dt" 2> "$out/host-build.log" || { cat "$out/host-build.log"; exit 1; }
"$out/dt" replay --self "$fw/program.dt" "$fw/events.jsonl" > "$out/host.jsonl"
[ -s "$out/host.jsonl" ] || { echo "FAIL: dt replay printed nothing"; exit 1; }

# run_firmware NAME MAKE-ARGS...: build, run under qemu (60 s at most), and
# compare; the firmware's own '#' lines must end with "# done".
run_firmware() {
  local name=$1 dir="$out/$1" status=0
  shift
  make -s -C "$fw" B="$PWD/$dir" "$@" >/dev/null
  timeout 60 qemu-system-arm -M mps2-an385 -nographic -monitor none -serial stdio \
    -semihosting-config enable=on,target=native -kernel "$dir/firmware.elf" \
    < /dev/null > "$dir/uart.txt" 2> "$dir/qemu.err" || status=$?
  tr -d '\r' < "$dir/uart.txt" > "$dir/uart.log"
  grep -v '^#' "$dir/uart.log" > "$dir/replay.jsonl" || true
  if [ "$status" -ne 0 ] || [ "$(tail -n 1 "$dir/uart.log")" != "# done" ]; then
    echo "FAIL: $name: firmware exit status $status"
    cat "$dir/uart.log" "$dir/qemu.err"
    exit 1
  fi
  if ! diff -u "$out/host.jsonl" "$dir/replay.jsonl" > "$dir/diff.txt"; then
    echo "FAIL: $name: the firmware's replay differs from dt replay on the host"
    head -n 40 "$dir/diff.txt"
    exit 1
  fi
  grep '^#' "$dir/uart.log"
  echo "ok: $name: $(wc -l < "$dir/replay.jsonl") lines identical to dt replay"
  grep -E 'warning:' "$dir/dt_impl.warnings" | sed 's/^/  arm-none-eabi-gcc: /' || true
}

run_firmware firmware
run_firmware firmware-nofloat FLOAT=0

echo
sh "$fw/size.sh" "$out/size"
