/**
 * scripts/gpu-check.sh on this machine (no NVIDIA GPU, no Vulkan driver): it says so, takes the Vulkan loader
 * from the .deb it carries when the system has none, and still runs the CPU part; with a fake nvidia-smi and a
 * fake ICD (test hooks) it reports the GPU and pins the ICD, or writes one where only the driver's library is.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync("bash", ["scripts/gpu-check.sh", ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000, env: { ...process.env, ...env } });

describe("scripts/gpu-check.sh", function () {
  this.timeout(180_000);
  let work: string;
  before(() => (work = mkdtempSync(join(tmpdir(), "fusiond-gpu-check-test-"))));
  after(() => rmSync(work, { recursive: true, force: true }));

  it("without an NVIDIA GPU: says so, finds or unpacks the Vulkan loader, reports no ICD, and runs the CPU reference with a summary", () => {
    const out = join(work, "plain");
    const r = run(["--out", out, "--", "--models", "ego-only", "--batches", "32", "--seconds", "0.1", "--b1-calls", "10"], { GPU_CHECK_ICD_DIRS: join(work, "no-icd") });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Vulkan loader: (\/\S+libvulkan\.so\.1|libvulkan\.so\.1 was missing; unpacked from scripts\/gpu\/libvulkan1_.*_amd64\.deb onto LD_LIBRARY_PATH)/);
    assert.match(r.stdout, /\| ego-only \| onnx \(cpu\) \| - \| [\d.]+ \| [\d.]+ \| \d+ \|/);
    if (!/gpu-check: NVIDIA GPU: /.test(r.stdout)) {
      // This machine (and any without an NVIDIA GPU or its Vulkan driver): the GPU backends say why they did not run.
      assert.match(r.stdout, /no NVIDIA GPU \((nvidia-smi not found|nvidia-smi: .+)\)/);
      assert.match(r.stdout, /NVIDIA Vulkan ICD: none/);
      assert.match(r.stdout, /not run:\n- onnx-webgpu: .+\n- webgpu: .+/);
    }
    const json = JSON.parse(readFileSync(join(out, "gpu-check.json"), "utf8")) as { rows: { model: string; backend: string; error?: string; samplesPerS: Record<string, number> }[] };
    assert.deepEqual(json.rows.map((x) => x.backend), ["onnx (cpu)", "onnx-webgpu", "webgpu"]);
    assert.ok(json.rows[0]!.samplesPerS["b32"]! > 0);
    assert.match(readFileSync(join(out, "gpu-check.txt"), "utf8"), /## environment/);
  });

  it("with a GPU and the NVIDIA ICD: reports the GPU from nvidia-smi and pins the ICD", () => {
    const bin = join(work, "bin");
    const icd = join(work, "icd.d");
    mkdirSync(bin, { recursive: true });
    mkdirSync(icd, { recursive: true });
    writeFileSync(join(bin, "nvidia-smi"), "#!/bin/sh\necho 'NVIDIA H100 80GB HBM3, 550.54.15, 81559 MiB'\n");
    chmodSync(join(bin, "nvidia-smi"), 0o755);
    writeFileSync(join(icd, "nvidia_icd.json"), "{}");
    const r = run(["--checks-only", "--out", join(work, "gpu")], { PATH: `${bin}:${process.env["PATH"]}`, GPU_CHECK_ICD_DIRS: icd });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /NVIDIA GPU: NVIDIA H100 80GB HBM3, 550\.54\.15, 81559 MiB/);
    assert.match(r.stdout, new RegExp(`NVIDIA Vulkan ICD: ${icd}/nvidia_icd\\.json`));
    assert.match(r.stdout, /--checks-only: the models were not run/);
  });

  it("with the driver's libGLX_nvidia.so.0 but no ICD file (a container's driver mount): writes an ICD for the run; a failing nvidia-smi is no GPU", () => {
    const bin = join(work, "bin2");
    const lib = join(work, "lib");
    mkdirSync(bin, { recursive: true });
    mkdirSync(lib, { recursive: true });
    writeFileSync(join(bin, "nvidia-smi"), "#!/bin/sh\necho 'NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.'\nexit 9\n");
    chmodSync(join(bin, "nvidia-smi"), 0o755);
    writeFileSync(join(lib, "libGLX_nvidia.so.0"), "");
    const r = run(["--checks-only", "--out", join(work, "glx")], { PATH: `${bin}:${process.env["PATH"]}`, GPU_CHECK_ICD_DIRS: join(work, "none"), GPU_CHECK_LIB_DIRS: lib });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /no NVIDIA GPU \(nvidia-smi: NVIDIA-SMI has failed/);
    assert.match(r.stdout, new RegExp(`no nvidia_icd.json, but the driver's ${lib}/libGLX_nvidia\\.so\\.0 is here: wrote one for this run`));
  });

  it("an unknown option is a usage error", () => {
    const r = run(["--nope"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown option --nope/);
  });
});
