#!/usr/bin/env bash
# Run the built bundle as a user would, and time it:
#
#   packaging/check_bundle.sh [BUNDLE_DIR]      (default: dist/training-studio)
#
# --version; train the default project for one epoch; export that run to TFLite (which
# verifies it in the TFLite interpreter); --self-test (the real window, offscreen). Any
# non-zero exit fails the check. Settings and runs go to a temporary folder.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUNDLE="$(cd "${1:-$ROOT/dist/training-studio}" && pwd)"
EXE="$BUNDLE/training-studio"
PROJECT="$ROOT/resources/projects/digits-cnn.json"
if [[ ! -x "$EXE" ]]; then
    echo "check_bundle: no executable at $EXE: build it with packaging/build_bundle.sh" >&2
    exit 2
fi
[[ -f "$PROJECT" ]] || PROJECT="$BUNDLE/_internal/studio/resources/projects/digits-cnn.json"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/studio-bundle-check.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
export XDG_CONFIG_HOME="$TMP/config" XDG_DATA_HOME="$TMP/data" XDG_CACHE_HOME="$TMP/cache"
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"

now() { date +%s.%N; }
seconds() { awk "BEGIN {printf \"%.2f\", $2 - $1}"; }

# step NAME COMMAND...: run it, echo its output, time the first line of stdout and the whole.
step() {
    local name="$1"
    shift
    local out="$TMP/$name.out" err="$TMP/$name.err" started first="" rc=0
    echo "== $name: ${*/#$EXE/training-studio}"
    started=$(now)
    "$@" >"$out" 2>"$err" &
    local pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        if [[ -z "$first" && -s "$out" ]]; then first=$(now); fi
        sleep 0.02
    done
    wait "$pid" || rc=$?
    local ended
    ended=$(now)
    [[ -n "$first" ]] || first=$ended
    sed 's/^/   /' "$out"
    if [[ $rc -ne 0 ]]; then
        echo "FAILED: $name exited with status $rc; its stderr:" >&2
        tail -n 30 "$err" >&2
        exit 1
    fi
    echo "   -> ok: first line after $(seconds "$started" "$first") s, done in" \
         "$(seconds "$started" "$ended") s"
}

echo "bundle $BUNDLE ($(du -sh "$BUNDLE" | cut -f1))"
step version "$EXE" --version
step train "$EXE" train "$PROJECT" --epochs 1 --output "$TMP/run"
[[ -s "$TMP/run/model.keras" ]] || { echo "FAILED: train wrote no $TMP/run/model.keras" >&2; exit 1; }
step export "$EXE" export "$TMP/run" --format tflite --output "$TMP/m.tflite"
[[ -s "$TMP/m.tflite" ]] || { echo "FAILED: export wrote no $TMP/m.tflite" >&2; exit 1; }
step self-test "$EXE" --self-test
echo "bundle check passed"
