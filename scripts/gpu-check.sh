#!/usr/bin/env bash
# GPU check for fusiond's WebGPU backends, for an NVIDIA machine with no network (docs/gpu.md).
#
#   scripts/gpu-check.sh [--out DIR] [--install] [--checks-only] [-- ARGS for scripts/gpu-check.ts]
#
# 1. the GPU: nvidia-smi (name, driver, memory), or "no NVIDIA GPU" — the rest still runs;
# 2. the Vulkan loader (libvulkan.so.1), which Dawn needs under both WebGPU backends: when missing, it is taken
#    from the Debian package this script carries (scripts/gpu/libvulkan1_*.deb, 116 KB): unpacked into a private
#    folder on LD_LIBRARY_PATH, or installed with dpkg under --install when run as root;
# 3. the NVIDIA Vulkan ICD (nvidia_icd.json naming libGLX_nvidia.so.0): found in the usual icd.d folders, or
#    written beside the work files when the driver's libGLX_nvidia.so.0 is there without its JSON (a container
#    given the 'graphics' capability); VK_ICD_FILENAMES then pins it (no software Vulkan is picked by mistake);
# 4. scripts/gpu-check.ts: the shipped models on onnx-webgpu and webgpu against onnx on the CPU — max |Δp|,
#    b1 p50/p99, samples/s at b32/b1024/b8192 — and a summary. Output also in DIR (default $OUT or a temp folder):
#    gpu-check.txt and gpu-check.json.
#
# Needs: node 20 and the project's node_modules (onnxruntime-node, webgpu, tsx; @tensorflow/tfjs-backend-webgpu
# for the `webgpu` backend) — or, where there is no node_modules, the archive scripts/gpu-bundle.sh makes
# (.tmp/gpu-bundle.tar.xz, ~22 MiB; unpacked into node_modules); nothing from the network. Exit status 0 when the CPU reference ran (GPU backends
# that cannot run are reported, not fatal), 1 otherwise.
# --checks-only stops after 1–3. Test hooks: GPU_CHECK_ICD_DIRS (icd.d folders to search, colon-separated), GPU_CHECK_LIB_DIRS (folders searched
# for libvulkan.so.1 / libGLX_nvidia.so.0 besides ldconfig's cache).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1
OUTDIR="${OUT:-}"
INSTALL=0
CHECKS_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUTDIR="$2"; shift 2 ;;
    --install) INSTALL=1; shift ;;
    --checks-only) CHECKS_ONLY=1; shift ;;
    --) shift; break ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu-check: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$OUTDIR" ] || OUTDIR="$(mktemp -d "${TMPDIR:-/tmp}/fusiond-gpu-check.XXXXXX")"
mkdir -p "$OUTDIR"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/fusiond-gpu-work.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
SUMMARY=()
say() { echo "gpu-check: $*"; }
note() { SUMMARY+=("$1"); say "$1"; }

LIB_DIRS="${GPU_CHECK_LIB_DIRS:-}:/usr/lib/x86_64-linux-gnu:/usr/lib64:/usr/lib:/usr/local/nvidia/lib64:/usr/local/nvidia/lib:/run/nvidia/driver/usr/lib/x86_64-linux-gnu"
ICD_DIRS="${GPU_CHECK_ICD_DIRS:-/etc/vulkan/icd.d:/usr/share/vulkan/icd.d:/usr/local/share/vulkan/icd.d:/usr/local/etc/vulkan/icd.d}"

# find_lib NAME: a path to the shared library NAME, from ldconfig's cache or the library folders.
find_lib() {
  local name="$1" p d
  if [ -n "${LD_LIBRARY_PATH:-}" ]; then
    IFS=: read -ra extra <<<"$LD_LIBRARY_PATH"
    for d in "${extra[@]}"; do [ -n "$d" ] && [ -e "$d/$name" ] && { echo "$d/$name"; return 0; }; done
  fi
  p="$(ldconfig -p 2>/dev/null | awk -v n="$name" '$1 == n { print $NF; exit }')"
  [ -n "$p" ] && { echo "$p"; return 0; }
  IFS=: read -ra dirs <<<"$LIB_DIRS"
  for d in "${dirs[@]}"; do [ -n "$d" ] && [ -e "$d/$name" ] && { echo "$d/$name"; return 0; }; done
  return 1
}

# 0. the project: node_modules, or the archive scripts/gpu-bundle.sh made (a copied checkout without node_modules)
command -v node >/dev/null || { say "node is not on PATH (Node 20 is needed)"; exit 1; }
BUNDLE="${GPU_CHECK_BUNDLE:-$ROOT/.tmp/gpu-bundle.tar.xz}"
if [ ! -e node_modules ] && [ -f "$BUNDLE" ]; then
  # Only where there is no node_modules at all (a dangling link counts): never into an installed one.
  [ -L node_modules ] && rm node_modules
  mkdir node_modules && tar -xJf "$BUNDLE" -C node_modules && note "node_modules: unpacked from $BUNDLE (scripts/gpu-bundle.sh)"
fi
for m in onnxruntime-node tsx @tensorflow/tfjs; do
  [ -e "node_modules/$m/package.json" ] || { say "node_modules/$m is missing: bring node_modules, or the archive scripts/gpu-bundle.sh makes (.tmp/gpu-bundle.tar.xz, ~22 MiB)"; exit 1; }
done
[ -e node_modules/webgpu/package.json ] || note "webgpu (Dawn) package not installed: the webgpu backend and the adapter report are skipped"

# 1. the GPU
GPU=0
if command -v nvidia-smi >/dev/null; then
  if info="$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1)" && [ -n "$info" ]; then
    GPU=1
    while IFS= read -r line; do note "NVIDIA GPU: $line"; done <<<"$info"
  else
    note "no NVIDIA GPU (nvidia-smi: $(echo "$info" | head -1))"
  fi
else
  note "no NVIDIA GPU (nvidia-smi not found)"
fi

# 2. the Vulkan loader
if loader="$(find_lib libvulkan.so.1)"; then
  note "Vulkan loader: $loader"
else
  deb="$(ls "$ROOT"/scripts/gpu/libvulkan1_*_amd64.deb 2>/dev/null | head -1)"
  if [ -z "$deb" ]; then
    note "Vulkan loader: libvulkan.so.1 missing and no scripts/gpu/libvulkan1_*.deb to take it from"
  elif [ "$INSTALL" = 1 ] && [ "$(id -u)" = 0 ] && command -v dpkg >/dev/null; then
    if dpkg -i "$deb" >"$WORK/dpkg.log" 2>&1 && ldconfig && loader="$(find_lib libvulkan.so.1)"; then
      note "Vulkan loader: installed from $(basename "$deb") (dpkg -i): $loader"
    else
      note "Vulkan loader: dpkg -i $(basename "$deb") failed: $(tail -1 "$WORK/dpkg.log")"
    fi
  else
    dest="$WORK/vulkan"
    mkdir -p "$dest"
    if command -v dpkg-deb >/dev/null; then
      dpkg-deb -x "$deb" "$dest" 2>"$WORK/unpack.log"
    else
      (cd "$dest" && ar x "$deb" && tar -xf data.tar.* ) 2>"$WORK/unpack.log"
    fi
    lib="$dest/usr/lib/x86_64-linux-gnu"
    if [ -e "$lib/libvulkan.so.1" ]; then
      export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
      note "Vulkan loader: libvulkan.so.1 was missing; unpacked from scripts/gpu/$(basename "$deb") onto LD_LIBRARY_PATH (--install as root installs it with dpkg)"
    else
      note "Vulkan loader: libvulkan.so.1 missing; unpacking $(basename "$deb") failed: $(tail -1 "$WORK/unpack.log")"
    fi
  fi
fi

# 3. the NVIDIA Vulkan ICD
icd=""
IFS=: read -ra icd_dirs <<<"$ICD_DIRS"
for d in "${icd_dirs[@]}"; do
  for f in "$d"/nvidia*.json; do [ -e "$f" ] && { icd="$f"; break 2; }; done
done
if [ -n "$icd" ]; then
  export VK_ICD_FILENAMES="$icd"
  note "NVIDIA Vulkan ICD: $icd"
elif glx="$(find_lib libGLX_nvidia.so.0)"; then
  icd="$WORK/nvidia_icd.json"
  printf '{ "file_format_version": "1.0.0", "ICD": { "library_path": "%s", "api_version": "1.3.0" } }\n' "$glx" >"$icd"
  export VK_ICD_FILENAMES="$icd"
  note "NVIDIA Vulkan ICD: no nvidia_icd.json, but the driver's $glx is here: wrote one for this run"
else
  note "NVIDIA Vulkan ICD: none (no nvidia_icd.json in ${ICD_DIRS//:/, }; no libGLX_nvidia.so.0). In a container, the driver's Vulkan part comes with NVIDIA_DRIVER_CAPABILITIES=graphics (or all); WebGPU backends will find no adapter"
fi
if [ "$GPU" = 1 ] && command -v vulkaninfo >/dev/null; then
  vulkaninfo --summary >"$OUTDIR/vulkaninfo.txt" 2>&1 && note "vulkaninfo: $(grep -m1 deviceName "$OUTDIR/vulkaninfo.txt" | sed 's/^ *//')"
fi

# 4. the models
if [ "$CHECKS_ONLY" = 1 ]; then
  printf '%s\n' "${SUMMARY[@]}" >"$OUTDIR/gpu-check.txt"
  say "--checks-only: the models were not run"
  exit 0
fi
say "running the shipped models (scripts/gpu-check.ts $*)"
node --import tsx scripts/gpu-check.ts --json "$OUTDIR/gpu-check.json" "$@" 2>&1 | grep -v "^Hi, looks like\|^=*$\|tfjs-node for more details\|^$" | tee "$OUTDIR/gpu-check.txt"
status="${PIPESTATUS[0]}"
{
  echo
  echo "## environment"
  echo
  for s in "${SUMMARY[@]}"; do echo "- $s"; done
} | tee -a "$OUTDIR/gpu-check.txt"
say "written: $OUTDIR/gpu-check.txt, $OUTDIR/gpu-check.json"
[ "$status" = 0 ] && exit 0 || { say "the CPU reference did not run (exit $status)"; exit 1; }
