#!/usr/bin/env bash
# Runs every fuzz target (or those named) for SECONDS each (default 60), one after another,
# seeding the corpora first, and prints per target: executions, coverage (cov/ft), corpus
# size and crashes. Logs go to fuzz/logs/<target>.log, crash inputs to
# fuzz/artifacts/<target>/.
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`). On a stable toolchain the nightly
# flags cargo-fuzz passes are allowed by RUSTC_BOOTSTRAP=1. The sanitizer is off (`-s none`):
# posture has no unsafe code, and the runs go about twice as far in the same time; debug
# assertions and overflow checks stay on (cargo-fuzz's default).
set -uo pipefail

fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$fuzz_dir"
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(report posture_yml settings diff webhook)

export RUSTC_BOOTSTRAP=1
./seed.sh >/dev/null
mkdir -p logs

# Built once, then run directly: `cargo fuzz run` would rebuild whenever src/ changed
# between targets. The flags are cargo fuzz's defaults (release, debug assertions on).
cargo fuzz build -s none || exit 1
bin_dir="$fuzz_dir/target/x86_64-unknown-linux-gnu/release"

summary=()
failed=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    args=(-artifact_prefix="artifacts/$t/" -max_total_time="$seconds" -rss_limit_mb=2048
        -timeout=30 -print_final_stats=1)
    [ -f "dict/$t.dict" ] && args+=(-dict="dict/$t.dict")
    echo "== $t: ${seconds}s" >&2
    marker="$(mktemp)"
    # The same as `cargo fuzz run -s none "$t" -- "${args[@]}"`, without the rebuild.
    "$bin_dir/$t" "${args[@]}" "corpus/$t" >"logs/$t.log" 2>&1
    status=$?
    done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "logs/$t.log" | tail -1)"
    last_line="$(grep -E '^#[0-9]+[[:space:]]' "logs/$t.log" | tail -1)"
    line="${done_line:-$last_line}"
    execs="$(grep -oE 'stat::number_of_executed_units: [0-9]+' "logs/$t.log" | grep -oE '[0-9]+$' | tail -1)"
    cov="$(grep -oE 'cov: [0-9]+' <<<"$line" | grep -oE '[0-9]+')"
    ft="$(grep -oE 'ft: [0-9]+' <<<"$line" | grep -oE '[0-9]+')"
    corp="$(grep -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]*' <<<"$line" | cut -d' ' -f2)"
    crashes="$(find "artifacts/$t" -type f -newer "$marker" | wc -l)"
    rm -f "$marker"
    if [ "$status" -ne 0 ]; then
        failed=1
        reason="$(grep -m1 -E "panicked at|ERROR: libFuzzer|deadly signal|timeout after|out-of-memory" "logs/$t.log")"
        summary+=("$(printf '%-12s execs=%-10s cov=%-6s ft=%-6s corp=%-12s crashes=%s  FAILED: %s' \
            "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$crashes" "$reason")")
    else
        summary+=("$(printf '%-12s execs=%-10s cov=%-6s ft=%-6s corp=%-12s crashes=%s' \
            "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$crashes")")
    fi
done

printf '%s\n' "${summary[@]}"
exit "$failed"
