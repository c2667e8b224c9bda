#!/bin/sh
# Compile checks for dt.h: C99/C11 on gcc and clang, C++11/17 on g++ and
# clang++, several translation units with dt.h included more than once,
# DT_STATIC, DT_ALL_IMPLEMENTATION and each DT_NO_* trim alone and together.
# Every build is warning-free under -Werror and its program must run and
# exit 0. Prints one line per check and stops at the first failure (exit 1).
#
# A check that fails only because of a known dt.h bug is listed in
# known_bug() below and printed as "skip:" while the bug lasts (trimmed
# builds are then still built without -Werror and run). Once dt.h is fixed
# the check passes as "ok:"; delete its known_bug entry then.
#
# Run from anywhere: sh tests/compile/run.sh
cd "$(dirname "$0")/../.." || exit 1
SRC=tests/compile
OUT=build/compile
mkdir -p "$OUT" || exit 1
WARN="-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wundef -Wstrict-prototypes -Wmissing-prototypes"
CXXWARN="-Wall -Wextra -Wpedantic"
MULTI="$SRC/main.c $SRC/multi_a.c $SRC/multi_b.c"
ALLTRIMS="-DDT_NO_THREADS=1 -DDT_NO_MALLOC=1 -DDT_NO_CLOCK=1 -DDT_NO_FLOAT=1"
count=0
skipped=0
seq=0

have() { command -v "$1" >/dev/null 2>&1; }

# known_bug NAME: prints the dt.h bug that makes check NAME fail, if any.
known_bug() {
    case "$1" in
    none-open) ;;
    esac
}

# build_run NAME COMPILER ARGS... : builds and runs; 0 when both work,
# else leaves the reason in $OUT/log and $OUT/why.
build_run() {
    name=$1
    shift
    seq=$((seq + 1))
    bin="$OUT/check_$seq"
    if ! "$@" -o "$bin" >"$OUT/log" 2>&1; then
        echo "build: $* -o $bin" >"$OUT/why"
        return 1
    fi
    if ! "$bin" >"$OUT/log" 2>&1; then
        echo "run: $bin" >"$OUT/why"
        return 1
    fi
    return 0
}

fail() {
    echo "FAIL: $1"
    sed 's/^/  /' "$OUT/why" "$OUT/log"
    exit 1
}

# check NAME COMPILER ARGS... : -Werror is added here.
check() {
    name=$1
    shift
    if build_run "$name" "$@" -Werror; then
        count=$((count + 1))
        echo "ok: $name"
        return
    fi
    bug=$(known_bug "$name")
    [ -n "$bug" ] || fail "$name"
    skipped=$((skipped + 1))
    case "$name" in
    *DT_NO_*|*trims*)
        # still prove that the trimmed build works: without -Werror
        build_run "$name" "$@" || fail "$name (without -Werror)"
        echo "skip: $name: built without -Werror and ran (dt.h bug: $bug)" ;;
    *)
        echo "skip: $name (dt.h bug: $bug)" ;;
    esac
}

for cc in gcc clang; do
    if ! have "$cc"; then
        echo "skip: $cc not installed"
        continue
    fi
    for std in c99 c11; do
        check "$cc -std=$std: 3 TUs, dt.h included several times" \
            "$cc" -std=$std $WARN -I. -I$SRC -DDT_COMPILE_WITH_MULTI $MULTI
    done
    check "$cc -std=c99: DT_STATIC, two independent static implementations" \
        "$cc" -std=c99 $WARN -I. -I$SRC -DDT_STATIC -DDT_COMPILE_WITH_STATIC_OTHER $SRC/main.c $SRC/static_other.c
    check "$cc -std=c99: DT_ALL_IMPLEMENTATION before the first include" \
        "$cc" -std=c99 $WARN -I. -I$SRC -DDT_COMPILE_ALL_IMPL -DDT_COMPILE_IMPL_FIRST -DDT_COMPILE_WITH_MULTI $MULTI
    check "$cc -std=c99: DT_ALL_IMPLEMENTATION after a declarations-only include" \
        "$cc" -std=c99 $WARN -I. -I$SRC -DDT_COMPILE_ALL_IMPL -DDT_COMPILE_WITH_MULTI $MULTI
    for trim in DT_NO_THREADS DT_NO_MALLOC DT_NO_CLOCK DT_NO_FLOAT; do
        check "$cc -std=c99: $trim=1" "$cc" -std=c99 $WARN -I. -I$SRC -D$trim=1 -DDT_COMPILE_WITH_MULTI $MULTI
    done
    check "$cc -std=c99: all trims together" "$cc" -std=c99 $WARN -I. -I$SRC $ALLTRIMS -DDT_COMPILE_WITH_MULTI $MULTI
    check "$cc -std=c99: DT_SITE_SECTIONS=0" "$cc" -std=c99 $WARN -I. -I$SRC -DDT_SITE_SECTIONS=0 -DDT_COMPILE_WITH_MULTI $MULTI
done

# The whole suite with sites listed only on first execution (the non-ELF path).
if [ -f build/suites.h ]; then
    check "cc -std=c99: full test suite with DT_SITE_SECTIONS=0" \
        cc -std=c99 -O1 -pthread -I. -Itests -Ibuild -DDT_SITE_SECTIONS=0 tests/test_*.c tests/impl.c
fi

for cxx in g++ clang++; do
    if ! have "$cxx"; then
        echo "skip: $cxx not installed"
        continue
    fi
    for std in c++11 c++17; do
        check "$cxx -std=$std: 3 TUs as C++" \
            "$cxx" -std=$std $CXXWARN -I. -I$SRC -DDT_COMPILE_WITH_MULTI -x c++ $MULTI
    done
    check "$cxx -std=c++11: DT_STATIC as C++" \
        "$cxx" -std=c++11 $CXXWARN -I. -I$SRC -DDT_STATIC -DDT_COMPILE_WITH_STATIC_OTHER \
        -x c++ $SRC/main.c $SRC/static_other.c
    check "$cxx -std=c++11: all trims together as C++" \
        "$cxx" -std=c++11 $CXXWARN -I. -I$SRC $ALLTRIMS -DDT_COMPILE_WITH_MULTI -x c++ $MULTI
    # the adoption examples (examples/hosts with dt_probe.h, every processor) as C++
    for host in hash_service work_queue; do
        check "$cxx -std=c++11: examples/hosts/$host.c as C++" \
            "$cxx" -std=c++11 $CXXWARN -pthread -I. -x c++ examples/hosts/$host.c
    done
done

[ "$skipped" -eq 0 ] || echo "compile checks: $skipped skipped for known dt.h bugs"
echo "compile checks: $count ok"
