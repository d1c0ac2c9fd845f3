#!/usr/bin/env bash
# Packs the part of node_modules that scripts/gpu-check.sh needs into one archive, for a GPU machine with no
# network and a size limit on what travels with the working tree (docs/gpu.md):
#
#   scripts/gpu-bundle.sh [OUT]        (default .tmp/gpu-bundle.tar.xz; .tmp/ is git-ignored)
#
# Which files: those the check opens when it runs here (traced with strace over a short CPU run of every shipped
# model), plus the native parts it loads only on a GPU or runs as a program: onnxruntime-node's linux-x64
# binaries, Dawn's linux-x64 dawn.node, esbuild's binary (tsx), and @tensorflow/tfjs-backend-webgpu whole when it
# is installed. gpu-check.sh unpacks the archive into node_modules when onnxruntime-node is missing there
# (GPU_CHECK_BUNDLE=FILE names another archive).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="${1:-.tmp/gpu-bundle.tar.xz}"
command -v strace >/dev/null || { echo "gpu-bundle: strace is needed (apt-get install strace)" >&2; exit 1; }
NM="$(realpath node_modules)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/fusiond-gpu-bundle.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

echo "gpu-bundle: tracing a CPU run of scripts/gpu-check.ts (every shipped model, short)"
strace -f -qq -e trace=openat,open,execve,stat,statx,newfstatat,access,readlink -o "$WORK/trace" \
  node --import tsx scripts/gpu-check.ts --models all --batches 32 --seconds 0.05 --b1-calls 5 >"$WORK/run.log" 2>&1 \
  || { echo "gpu-bundle: the traced run failed:" >&2; tail -5 "$WORK/run.log" >&2; exit 1; }

{
  grep -v ENOENT "$WORK/trace" | grep -o "\"$NM/[^\"]*\"" | tr -d '"' | sed "s|^$NM/||"
  (cd "$NM" && find onnxruntime-node/bin/napi-v6/linux/x64 webgpu/dist/linux-x64 @esbuild/linux-x64 -type f 2>/dev/null)
  [ -d "$NM/@tensorflow/tfjs-backend-webgpu" ] && (cd "$NM" && find @tensorflow/tfjs-backend-webgpu -type f)
  # every package.json on the way to a file (module resolution reads them)
  grep -v ENOENT "$WORK/trace" | grep -o "\"$NM/[^\"]*\"" | tr -d '"' | sed "s|^$NM/||" | while read -r f; do
    d="$(dirname "$f")"
    while [ "$d" != "." ]; do [ -f "$NM/$d/package.json" ] && echo "$d/package.json"; d="$(dirname "$d")"; done
  done
} | sort -u | while read -r f; do [ -f "$NM/$f" ] && echo "$f"; done >"$WORK/files"

mkdir -p "$(dirname "$OUT")"
tar -cJf "$OUT" -C "$NM" --files-from "$WORK/files"
raw=$(cd "$NM" && tr '\n' '\0' <"$WORK/files" | du -cb --files0-from=- | tail -1 | cut -f1)
echo "gpu-bundle: $OUT: $(wc -l <"$WORK/files") files, $((raw / 1048576)) MiB unpacked, $(($(stat -c %s "$OUT") / 1048576)) MiB packed"
