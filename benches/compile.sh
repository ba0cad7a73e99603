#!/usr/bin/env bash
# The compile-time cost of `workflow!`: workflows of N states generated, built in debug and
# release beside a hand-written equivalent, in one run, printed as one table.
#
#   benches/compile.sh [SIZES...]            (default: 10 100 1000)
#
# Release builds are made up to COMPILE_BENCH_RELEASE_UP_TO states (100): a release build of
# the chain of 100 took 350 s and 4.7 GB, and one of 1,000 would not end in reasonable time.
#
# For each size N it generates three binaries in a scratch crate (target/compile-bench, or
# under CARGO_TARGET_DIR when that is set), each running its workflow once with
# `Runtime::call`, so the engine is instantiated for it:
#   chain-N  N task states in a row, each with `retry States::ALL { max_attempts: 2 }`;
#   mix-N    blocks of a task, a Choice, two tasks it chooses between, a Parallel state of two
#            branches of a task each, a task joining them, a Map state of one task, and a task
#            summing its results (11 states a block, nested ones counted), to about N states;
#   hand-N   the same N functions as chain-N awaited one after the other (the floor).
# The crate's dependencies are built first; then each binary is built after touching its
# source (without incremental compilation), so the time and memory are those of compiling
# and linking that binary alone:
# wall seconds, and the peak resident memory of the largest process (rustc), from GNU time.
# The last lines give the marginal cost of a state, between the smallest and largest size.
set -euo pipefail

sizes=("$@")
if [ ${#sizes[@]} -eq 0 ]; then
    sizes=(10 100 1000)
fi
release_up_to=${COMPILE_BENCH_RELEASE_UP_TO:-100}
root=$(cd "$(dirname "$0")/.." && pwd)
target_root=${CARGO_TARGET_DIR:-$root/target}
work=$target_root/compile-bench
mkdir -p "$work/src/bin"
export CARGO_TARGET_DIR=$work/target
# A touched file whose text did not change would be rebuilt from the incremental cache in a
# fraction of a second: each build here compiles its binary from scratch, as a changed
# workflow (whose machine is one function) is.
export CARGO_INCREMENTAL=0
timer=/usr/bin/time
if ! [ -x "$timer" ]; then
    echo "compile.sh needs GNU time at $timer (Debian: apt-get install time)" >&2
    exit 1
fi

cat > "$work/Cargo.toml" <<EOF
[package]
name = "compile-bench"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
workflow = { path = "$root" }
tokio = { version = "1", features = ["rt", "macros"] }

# Not a member of the project's workspace.
[workspace]
EOF

# The project's versions of the dependencies.
if ! [ -f "$work/Cargo.lock" ]; then
    cp "$root/Cargo.lock" "$work/Cargo.lock"
fi

# One step per position, so that each state calls a function of its own (as users' do).
steps() {
    local n=$1
    for ((i = 1; i <= n; i++)); do
        printf '#[step]\nasync fn s%d(value: u64) -> u64 {\n    value.wrapping_add(%d)\n}\n' "$i" "$i"
    done
}

# A `main` running workflow $1 once with `Runtime::call`, so that the engine is
# instantiated for it.
runs() {
    cat <<EOF
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let runtime = Runtime::builder().register::<$1>().build().expect("builds");
    let output = runtime.call::<$1>(0).await.expect("runs");
    println!("{output:?}");
}
EOF
}

chain() {
    local n=$1
    echo '#![allow(missing_docs)]'
    echo 'use workflow::prelude::*;'
    steps "$n"
    echo 'workflow! {'
    echo "    Chain: Express<u64, u64> {"
    echo '        start S1;'
    for ((i = 1; i < n; i++)); do
        echo "        S$i: task s$i -> S$((i + 1)), retry States::ALL { max_attempts: 2 };"
    done
    echo "        S$n: task s$n -> end, retry States::ALL { max_attempts: 2 };"
    echo '    }'
    echo '}'
    runs Chain
}

mix() {
    local n=$1 blocks
    blocks=$(((n + 10) / 11))
    echo '#![allow(missing_docs)]'
    echo 'use workflow::prelude::*;'
    steps $((blocks * 6))
    cat <<'EOF'
#[step]
async fn join(pair: (u64, u64)) -> u64 {
    pair.0.wrapping_add(pair.1)
}
#[step]
async fn sum(values: Vec<u64>) -> u64 {
    values.iter().fold(0, |sum, value| sum.wrapping_add(*value))
}
EOF
    echo 'workflow! {'
    echo "    Mix: Express<u64, u64> {"
    echo '        start T1;'
    for ((b = 1; b <= blocks; b++)); do
        local s=$(((b - 1) * 6)) next
        if [ "$b" -eq "$blocks" ]; then next=end; else next=T$((b + 1)); fi
        echo "        T$b: task s$((s + 1)) -> C$b;"
        echo "        C$b: choice { |value: &u64| *value % 2 == 0 => E$b, _ => O$b };"
        echo "        E$b: task s$((s + 2)) -> P$b;"
        echo "        O$b: task s$((s + 3)) -> P$b;"
        echo "        P$b: parallel {"
        echo "            branch { start L$b; L$b: task s$((s + 4)) -> end; }"
        echo "            branch { start R$b; R$b: task s$((s + 5)) -> end; }"
        echo "        } -> J$b;"
        echo "        J$b: task join -> M$b;"
        echo "        M$b: map |value: &u64| vec![*value, value.wrapping_add(1)] {"
        echo "            start I$b; I$b: task s$((s + 6)) -> end;"
        echo "        } -> U$b;"
        echo "        U$b: task sum -> $next;"
    done
    echo '    }'
    echo '}'
    runs Mix
}

hand() {
    local n=$1
    echo '#![allow(missing_docs)]'
    echo 'use workflow::prelude::*;'
    steps "$n"
    echo 'async fn chain(value: u64) -> u64 {'
    for ((i = 1; i <= n; i++)); do
        echo "    let value = s$i(value).await;"
    done
    echo '    value'
    echo '}'
    cat <<'EOF'
#[tokio::main(flavor = "current_thread")]
async fn main() {
    println!("{}", chain(0).await);
}
EOF
}

# `mix` counts its states: 8 at the top level and 3 nested, a block.
states_of() {
    local kind=$1 n=$2
    case $kind in
        mix) echo $((((n + 10) / 11) * 11)) ;;
        *) echo "$n" ;;
    esac
}

for n in "${sizes[@]}"; do
    for kind in chain mix hand; do
        "$kind" "$n" > "$work/src/bin/$kind-$n.rs"
    done
done

echo "building the dependencies (debug and release)..." >&2
cargo build -q --manifest-path "$work/Cargo.toml" --bin "hand-${sizes[0]}" >&2
cargo build -q --release --manifest-path "$work/Cargo.toml" --bin "hand-${sizes[0]}" >&2

declare -A seconds memory
echo
echo "| workflow | states | debug s | debug peak MB | release s | release peak MB |"
echo "|---|---:|---:|---:|---:|---:|"
for n in "${sizes[@]}"; do
    for kind in chain mix hand; do
        row="| $kind | $(states_of "$kind" "$n") |"
        for profile in debug release; do
            flag=()
            if [ "$profile" = release ]; then
                if [ "$n" -gt "$release_up_to" ]; then
                    row="$row — | — |"
                    continue
                fi
                flag=(--release)
            fi
            touch "$work/src/bin/$kind-$n.rs"
            "$timer" -f '%e %M' -o "$work/time.txt" \
                cargo build -q "${flag[@]}" --manifest-path "$work/Cargo.toml" --bin "$kind-$n" >&2
            read -r wall peak < "$work/time.txt"
            seconds[$kind-$n-$profile]=$wall
            memory[$kind-$n-$profile]=$((peak / 1024))
            row="$row $wall | $((peak / 1024)) |"
        done
        echo "$row"
    done
done

if [ ${#sizes[@]} -gt 1 ]; then
    small=${sizes[0]}
    echo
    for kind in chain mix hand; do
        for profile in debug release; do
            # The largest size built in this profile.
            large=$small
            for n in "${sizes[@]}"; do
                if [ -n "${seconds[$kind-$n-$profile]:-}" ]; then large=$n; fi
            done
            if [ "$large" = "$small" ]; then continue; fi
            states=$(($(states_of "$kind" "$large") - $(states_of "$kind" "$small")))
            awk -v a="${seconds[$kind-$small-$profile]}" -v b="${seconds[$kind-$large-$profile]}" \
                -v k="$kind" -v p="$profile" -v s="$states" \
                -v from="$small" -v to="$large" \
                'BEGIN { printf "compile: %s, %s: %.1f ms per further state (%s to %s)\n", k, p, (b - a) * 1000 / s, from, to }'
        done
    done
fi
