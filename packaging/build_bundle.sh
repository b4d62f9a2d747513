#!/usr/bin/env bash
# Build the one-folder Linux bundle dist/training-studio/ with PyInstaller.
#
#   packaging/build_bundle.sh [extra PyInstaller options, e.g. --clean]
#
# Uses the project's virtual environment (PYTHON overrides it) and installs PyInstaller there
# (the `bundle` extra) if it is missing. Prints the build time and the bundle's size.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
NAME=training-studio
BUNDLE="$ROOT/dist/$NAME"

if [[ ! -x "$PYTHON" ]]; then
    echo "build_bundle: $PYTHON not found: create the venv first (python3 -m venv .venv &&" \
         ".venv/bin/pip install -e .), or set PYTHON" >&2
    exit 2
fi
if ! "$PYTHON" -c "import PyInstaller" 2>/dev/null; then
    echo "build_bundle: installing PyInstaller (the bundle extra) into $("$PYTHON" -c 'import sys; print(sys.prefix)')"
    "$PYTHON" -m pip install --quiet "pyinstaller>=6"
fi

if ! "$PYTHON" -c "import tensorboard.summary.v2" 2>/dev/null; then
    echo "build_bundle: warning: tensorboard is not installed, so the bundle's 'TensorBoard" \
         "logs' option will fail; install it first: pip install -e '.[tensorboard]'" >&2
fi

started=$(date +%s.%N)
"$PYTHON" -m PyInstaller --noconfirm --log-level WARN \
    --distpath "$ROOT/dist" --workpath "$ROOT/build/pyinstaller" "$@" packaging/studio.spec
# The desktop entry and its icon sit at the bundle's top level, beside the executable.
cp resources/icons/app.png "$BUNDLE/$NAME.png"
cp packaging/$NAME.desktop "$BUNDLE/$NAME.desktop"
ended=$(date +%s.%N)

echo "built $BUNDLE in $(awk "BEGIN {printf \"%.0f\", $ended - $started}") s"
echo "size: $(du -sh "$BUNDLE" | cut -f1) ($(find "$BUNDLE" -type f | wc -l) files)"
