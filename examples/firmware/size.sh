#!/bin/sh
# size.sh — code and data size of dt on a Cortex-M3 at -Os, Thumb-2
# (arm-none-eabi-gcc): each header's code alone (one object holding only
# that header's implementation), and the firmware image with dt's share of
# it after the linker dropped what the firmware does not call.
#
#     sh examples/firmware/size.sh [OUTDIR]        (default build/size)
#
# FW_MAKE_ARGS passes make variables to the firmware build (CORE_ONLY=1).
#
# Columns are bytes: text is code, rodata constant data (strings, tables),
# both in flash; data is flash and RAM; bss is RAM. The engine's RAM at run
# time (its block, the stack) is in the firmware's own report, not here.
set -eu
FW_MAKE_ARGS=${FW_MAKE_ARGS:-}
cd "$(dirname "$0")/../.."
mkdir -p "${1:-build/size}"
out=$(cd "${1:-build/size}" && pwd)
CC=arm-none-eabi-gcc
FLAGS="-std=c99 -Os -mcpu=cortex-m3 -mthumb -ffunction-sections -fdata-sections -w -I. -Iexamples/firmware"
FW="-DDT_CONFIG_FILE=\"dt_config.h\""

# sizes FILE: text rodata data bss of an object or image (size -A, summed).
sizes() {
    arm-none-eabi-size -A "$1" | awk '
        $1 ~ /^\.text/ || $1 == ".vectors" { t += $2 }
        $1 ~ /^\.rodata/ || $1 == "dt_sites" { r += $2 }
        $1 ~ /^\.data/ { d += $2 }
        $1 ~ /^\.bss/ || $1 == "COMMON" { b += $2 }
        END { printf "%8d %8d %8d %8d", t, r, d, b }'
}

row() { printf "%-52s %s\n" "$1" "$2"; }

# object NAME SOURCE-LINES CFLAGS...: compiles the lines as one C file.
object() {
    name=$1 src=$2
    shift 2
    printf '%s\n' "$src" > "$out/$name.c"
    if $CC $FLAGS "$@" -c -o "$out/$name.o" "$out/$name.c" 2> "$out/$name.err"; then
        sizes "$out/$name.o"
    else
        echo "does not build for Cortex-M3 (see $out/$name.err)"
    fi
}

CORE='#define DT_IMPLEMENTATION
#include "dt.h"'
row "" "    text   rodata     data      bss"
row "dt.h, firmware options (dt_config.h)" "$(object core "$CORE" "$FW")"
row "dt.h, firmware options + DT_NO_FLOAT" "$(object core_nofloat "$CORE" "$FW" -DDT_NO_FLOAT=1)"
row "dt.h, defaults but DT_NO_THREADS, DT_NO_CLOCK" "$(object core_defaults "$CORE" -DDT_NO_THREADS=1 -DDT_NO_CLOCK=1)"
if [ -f dt_query.h ]; then
    row "dt_query.h alone, firmware options" "$(object query '#define DT_QUERY_IMPLEMENTATION
#include "dt.h"
#include "dt_query.h"' "$FW")"
fi
if [ -f dt_stateful.h ]; then
    row "dt_stateful.h alone, firmware options" "$(object stateful '#define DT_STATEFUL_IMPLEMENTATION
#include "dt.h"
#include "dt_stateful.h"' "$FW")"
fi
if [ -f dt_query.h ] || [ -f dt_stateful.h ]; then
    row "all headers (DT_ALL_IMPLEMENTATION), firmware options" "$(object all '#define DT_ALL_IMPLEMENTATION
#include "dt.h"
#include "examples/firmware/fw_processors.h"' "$FW")"
fi

# The firmware image, and dt's part of it as linked (from the map file).
make -s -C examples/firmware B="$out/fw" $FW_MAKE_ARGS >/dev/null 2>"$out/fw.err" || { cat "$out/fw.err"; exit 1; }
row "firmware.elf: whole image (text holds rodata here)" "$(sizes "$out/fw/firmware.elf")"
row "firmware.elf: dt's part as linked (--gc-sections)" "$(awk '
    function hex(s,   i, n) {
        n = 0
        for (i = 3; i <= length(s); i++) n = n * 16 + index("0123456789abcdef", tolower(substr(s, i, 1))) - 1
        return n
    }
    /^Linker script and memory map/ { on = 1 }
    !on { next }
    NF == 1 && $1 ~ /^[.]/ { sec = $1; next }
    {
        if (NF == 4 && $1 ~ /^[.]/) { sec = $1; sz = $3; file = $4 }
        else if (NF == 3 && $1 ~ /^0x/) { sz = $2; file = $3 }
        else next
        if (file !~ /dt_impl\.o$/) next
        n = hex(sz)
        if (sec ~ /^\.text/) t += n; else if (sec ~ /^\.rodata/) r += n
        else if (sec ~ /^\.data/) d += n; else if (sec ~ /^\.bss/ || sec == "COMMON") b += n
    }
    END { printf "%8d %8d %8d %8d", t, r, d, b }' "$out/fw/firmware.map")"
