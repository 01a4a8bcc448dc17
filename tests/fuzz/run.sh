#!/bin/bash
# Build and briefly run every libFuzzer target tests/fuzz/fuzz_NAME.c.
# Each target is compiled standalone with clang (ASan + UBSan) from the
# target, every lib/*.c except skeleton.c, and the extra sources named on
# the target's first line ("// sources: smtpd/smtp_proto.c ...").  Each
# runs for FUZZ_SECONDS (default 15) on tests/fuzz/build/corpus-NAME,
# seeded from tests/fuzz/seeds/NAME/ when present; the total run time is
# capped by FUZZ_TOTAL_SECONDS (default 170).  Exits 1 if a target fails
# to build or finds a crash; skips (exit 0) when clang/libFuzzer is missing.
#
# Usage: tests/fuzz/run.sh [NAME...]   (default: every target)
set -uo pipefail
cd "$(dirname "$0")/../.."

FUZZ_SECONDS=${FUZZ_SECONDS:-15}
FUZZ_TOTAL_SECONDS=${FUZZ_TOTAL_SECONDS:-170}
CC=${FUZZ_CC:-clang}
build=tests/fuzz/build
mkdir -p "$build"

if ! command -v "$CC" >/dev/null 2>&1; then
    echo "fuzz: $CC not installed; skipping fuzz targets"
    exit 0
fi
probe="$build/probe.c"
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }' >"$probe"
if ! "$CC" -fsanitize=fuzzer,address,undefined -o "$build/probe" "$probe" 2>"$build/probe.err"; then
    echo "fuzz: $CC cannot link libFuzzer (install libclang-rt-14-dev); skipping"
    exit 0
fi

if [ ! -f config.h ]; then
    echo "fuzz: config.h missing; run scripts/build (./configure) first" >&2
    exit 1
fi

lib_sources=()
for f in lib/*.c; do
    [ "$f" = lib/skeleton.c ] || lib_sources+=("$f")
done
# The compiled-in directories that Makefile.am passes to every object.
defines=(-DDEF_CONFIG_DIR='"/etc/posthorn"' -DDEF_DAEMON_DIR='"/usr/libexec/posthorn"'
         -DDEF_COMMAND_DIR='"/usr/sbin"' -DDEF_QUEUE_DIR='"/var/spool/posthorn"'
         -DDEF_DATA_DIR='"/var/lib/posthorn"')
# shellcheck disable=SC2207
pkg_flags=($(pkg-config --cflags --libs libbsd-overlay libcares openssl))

targets=()
if [ $# -gt 0 ]; then
    for name in "$@"; do targets+=("tests/fuzz/fuzz_${name#fuzz_}.c"); done
else
    for f in tests/fuzz/fuzz_*.c; do [ -e "$f" ] && targets+=("$f"); done
fi
if [ ${#targets[@]} -eq 0 ]; then
    echo "fuzz: no targets (tests/fuzz/fuzz_*.c)"
    exit 0
fi

# Share the total budget between the targets.
per=$FUZZ_SECONDS
if [ $(( per * ${#targets[@]} )) -gt "$FUZZ_TOTAL_SECONDS" ]; then
    per=$(( FUZZ_TOTAL_SECONDS / ${#targets[@]} ))
    [ "$per" -lt 2 ] && per=2
fi

# Objects are compiled once with the sanitizers (and libFuzzer's
# coverage hooks) and reused by every target; a header change rebuilds all.
newest_header=$(ls -t lib/*.h config.h | head -n 1)
compile_object() {
    local src=$1 obj
    obj="$build/obj/$(echo "$src" | tr / _).o"
    mkdir -p "$build/obj"
    if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ "$newest_header" -nt "$obj" ]; then
        if ! "$CC" -g -O1 -fsanitize=fuzzer-no-link,address,undefined -Ilib -I. "${defines[@]}" \
                $(pkg-config --cflags libbsd-overlay libcares openssl) \
                -c -o "$obj" "$src" 2>"$obj.log"; then
            echo "fuzz: cannot compile $src:" >&2
            cat "$obj.log" >&2
            rm -f "$obj"
            return 1
        fi
    fi
    echo "$obj"
}

failed=()
for src in "${targets[@]}"; do
    name=$(basename "$src" .c)
    name=${name#fuzz_}
    extra=()
    first=$(head -n 1 "$src")
    if [[ "$first" =~ ^//[[:space:]]*sources:(.*)$ ]]; then
        # shellcheck disable=SC2206
        extra=(${BASH_REMATCH[1]})
    fi
    bin="$build/fuzz_$name"
    echo "fuzz: building $name${extra:+ (with ${extra[*]})}"
    objs=()
    ok=1
    for f in "${lib_sources[@]}" "${extra[@]}"; do
        if ! o=$(compile_object "$f"); then ok=0; break; fi
        objs+=("$o")
    done
    if [ $ok -eq 1 ] && ! "$CC" -g -O1 -fsanitize=fuzzer,address,undefined -Ilib -I. "${defines[@]}" \
            -o "$bin" "$src" "${objs[@]}" \
            "${pkg_flags[@]}" -ldb-5.3 -lcrypt 2>"$build/$name.build.log"; then
        cat "$build/$name.build.log"
        ok=0
    fi
    if [ $ok -eq 0 ]; then
        echo "fuzz: $name: BUILD FAILED"
        failed+=("$name(build)")
        continue
    fi
    corpus="$build/corpus-$name"
    mkdir -p "$corpus"
    if [ -d "tests/fuzz/seeds/$name" ]; then
        cp -n tests/fuzz/seeds/"$name"/* "$corpus"/ 2>/dev/null || true
    fi
    echo "fuzz: running $name for ${per}s"
    if ! (cd "$build" && UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
            "./fuzz_$name" -max_total_time="$per" -rss_limit_mb=2048 \
            -timeout=10 -print_final_stats=0 -artifact_prefix="./crash-$name-" \
            "corpus-$name" >"$name.run.log" 2>&1); then
        echo "fuzz: $name: FAILED (artifacts: $build/crash-$name-*)"
        tail -n 60 "$build/$name.run.log"
        failed+=("$name")
    else
        echo "fuzz: $name: ok ($(grep -o 'Done [0-9]* runs' "$build/$name.run.log" | tail -n 1))"
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: FAILED: ${failed[*]}"
    exit 1
fi
echo "fuzz: all ${#targets[@]} targets ok"
