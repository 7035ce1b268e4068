#!/usr/bin/env bash
# The guide followed literally by someone who has only the packaged SDK.
#
# 1. `cargo package -p psa-sdk` (verification included: the packaged crate builds on its own);
# 2. the `.crate` unpacked into an empty temporary directory outside the repository;
# 3. a connector crate written there from plugins/README.md: its first ```toml block as
#    Cargo.toml (the one `psa-sdk = "..."` line pointed at the unpacked package instead of the
#    registry, nothing else changed), its first ```rust block (the connector) and second (its
#    native tests) as src/lib.rs;
# 4. built for wasm32-wasip2 with its own target directory, and the result checked to be a
#    WebAssembly component;
# 5. the guide's tests run natively there (`cargo test`, against the SDK's fake host);
# 6. the unpacked SDK's own unit tests run there (the root-WIT comparison must skip, the
#    version check must pass);
# 7. `psahost plugin new halo-psa` on the unpacked SDK: its tests pass natively, it builds
#    for wasm32-wasip2, and `psahost plugin inspect` loads it.
#
# Usage: plugins/sdk/tests/package.sh   (KEEP=1 keeps the temporary directory)
# Honours CARGO_TARGET_DIR and CARGO_BUILD_JOBS for step 1; run it under `nice` on a shared box.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
guide="$repo/plugins/README.md"
target="${CARGO_TARGET_DIR:-$repo/target}"
# The repository's pinned toolchain, also outside the repository (no rust-toolchain.toml there).
toolchain="$(sed -n 's/^channel *= *"\(.*\)"/\1/p' "$repo/rust-toolchain.toml")"
export RUSTUP_TOOLCHAIN="${RUSTUP_TOOLCHAIN:-$toolchain}"

step() { printf '\n== %s\n' "$*"; }
fail() { printf 'package.sh: %s\n' "$*" >&2; exit 1; }

step "cargo package -p psa-sdk (toolchain $RUSTUP_TOOLCHAIN)"
(cd "$repo" && cargo package -p psa-sdk --allow-dirty)
version="$(cd "$repo" && cargo pkgid -p psa-sdk | sed 's/.*[@#]//')"
crate="$target/package/psa-sdk-$version.crate"
[ -f "$crate" ] || fail "no $crate after cargo package"
ls -l "$crate"

work="$(mktemp -d "${TMPDIR:-/tmp}/psa-sdk-guide.XXXXXX")"
case "$work/" in "$repo"/*) fail "$work is inside the repository $repo" ;; esac
if [ "${KEEP:-0}" != 1 ]; then trap 'rm -rf "$work"' EXIT; fi

step "unpack into $work (outside $repo)"
mkdir -p "$work/vendor"
tar xzf "$crate" -C "$work/vendor"
sdk="$work/vendor/psa-sdk-$version"
[ -d "$sdk/wit" ] || fail "the packaged crate has no wit/"
ls "$sdk" "$sdk/wit"

step "connector crate from $guide"
app="$work/acme-psa"
mkdir -p "$app/src"
# The guide's fenced block number $2 (from 1) in language $1, its list indentation removed.
block() {
    awk -v lang="$1" -v want="$2" '
        $0 ~ "^ *```" lang "$" { n++; if (n == want) { inside = 1; match($0, /^ */); indent = RLENGTH }; next }
        inside && $0 ~ /^ *```$/ { inside = 0; next }
        inside { print substr($0, indent + 1) }
    ' "$guide"
}
block toml 1 >"$app/Cargo.toml"
# The connector, then the guide's native tests (its second rust block) after it.
block rust 1 >"$app/src/lib.rs"
block rust 2 >>"$app/src/lib.rs"
grep -q 'FakeHost' "$app/src/lib.rs" || fail "the guide's second rust block (the native tests) is missing"
grep -q '^psa-sdk = "' "$app/Cargo.toml" || fail "the guide's Cargo.toml has no \`psa-sdk = \"...\"\` line"
sed -i "s#^psa-sdk = \".*\"#psa-sdk = { path = \"$sdk\" }#" "$app/Cargo.toml"
[ -s "$app/src/lib.rs" ] || fail "the guide has no rust block"
cat "$app/Cargo.toml"
printf '(src/lib.rs: %s lines from the guide)\n' "$(wc -l <"$app/src/lib.rs")"

step "cargo build --release --target wasm32-wasip2 in $app"
(cd "$app" && env -u CARGO_TARGET_DIR cargo build --release --target wasm32-wasip2)
wasm="$app/target/wasm32-wasip2/release/acme_psa.wasm"
[ -f "$wasm" ] || fail "no $wasm"
# A component starts with `\0asm` and the component-model version/layer 0d 00 01 00 (a core
# module has 01 00 00 00).
header="$(od -An -tx1 -N8 "$wasm" | tr -d ' \n')"
[ "$header" = "0061736d0d000100" ] || fail "$wasm is not a WebAssembly component (header $header)"
ls -l "$wasm"
echo "component header: $header"

step "the guide's native tests (cargo test, the SDK's fake host) in $app"
(cd "$app" && env -u CARGO_TARGET_DIR cargo test)

step "the unpacked SDK's unit tests, then its WIT tests shown (root comparison skips: no ../../wit beside it)"
(cd "$sdk" && export CARGO_TARGET_DIR="$work/sdk-target" &&
    cargo test --lib && cargo test --lib wit_tests -- --nocapture)

step "psahost plugin new halo-psa, on the packaged SDK, in $work/halo-psa"
(cd "$repo" && cargo run -q -p psahost -- plugin new halo-psa --dir "$work/halo-psa" --sdk-path "$sdk")
(cd "$work/halo-psa" && export CARGO_TARGET_DIR="$app/target" &&
    cargo test && cargo build --release --target wasm32-wasip2)
new_wasm="$app/target/wasm32-wasip2/release/halo_psa.wasm"
[ -f "$new_wasm" ] || fail "no $new_wasm"
(cd "$repo" && cargo run -q -p psahost -- plugin inspect "$new_wasm") | tee "$work/inspect.txt"
grep -q "(halo-psa)" "$work/inspect.txt" || fail "plugin inspect does not show the new connector's id"

step "ok: the packaged psa-sdk $version builds the guide's connector and a new one outside the repository"
