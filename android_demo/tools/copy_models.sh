#!/usr/bin/env bash
# Copies the exported models + sidecars into the app's assets (what the Gradle task
# copyReposeModels does on every build), for when you want them there without Gradle.
# A release commits the int8 model only; the float16 one is derived from the release's .keras
# and made here first when missing (python tools/ship_model.py --regenerate; about a minute).
# Usage: android_demo/tools/copy_models.sh [MODELS_DIR]   (default: <repo>/models)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
src=${1:-$here/../models}
dst=$here/app/src/main/assets/models
if [ -f "$src/manifest.json" ]; then
    python "$here/../tools/ship_model.py" --regenerate --output_dir "$src"
fi
mkdir -p "$dst"
status=0
for stem in repose_lsp14_float16 repose_lsp14_int8; do
    for ext in tflite json; do
        if [ -f "$src/$stem.$ext" ]; then
            cp "$src/$stem.$ext" "$dst/"
            echo "copied $stem.$ext"
        else
            echo "missing $src/$stem.$ext (export it first)" >&2
            status=1
        fi
    done
done
exit $status
