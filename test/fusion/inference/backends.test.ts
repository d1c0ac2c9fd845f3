import assert from "node:assert/strict";
import { nodeBackendEnv, selectBackend, type BackendEnv, type BackendSelection } from "../../../fusion/inference/backends.ts";
import type { OrtModule } from "../../../fusion/inference/onnx-runtime.ts";

/** A fake onnxruntime-node: the listed execution providers, of which `broken` fail at session creation. */
function fakeOrt(providers: string[], broken: string[] = []): OrtModule {
  return {
    listSupportedBackends: () => providers.map((name) => ({ name, bundled: true })),
    InferenceSession: {
      create: async (_model, options) => {
        const ep = options.executionProviders[0]!;
        if (broken.includes(ep)) throw new Error(`no adapter for ${ep}\nmore detail`);
        return { inputNames: ["x"], outputNames: ["y"], run: async () => ({}), release: async () => {} };
      },
    },
    Tensor: class {
      constructor(
        readonly type: string,
        readonly data: Float32Array,
        readonly dims: readonly number[],
      ) {}
    },
  };
}

/** A stub world: which modules import (a few with content), whether a GPU is visible, which backends initialise. */
function env(o: { modules?: string[]; gpu?: boolean; failing?: string[]; ort?: OrtModule; webgpuFails?: boolean }): BackendEnv & { active: string } {
  const e = {
    active: "cpu",
    importModule: async (name: string) => {
      if (name === "onnxruntime-node" && o.ort) return o.ort;
      if (!(o.modules ?? []).includes(name)) throw Object.assign(new Error(`Cannot find package '${name}' imported from x`), { code: "ERR_MODULE_NOT_FOUND" });
      return {};
    },
    hasCudaGpu: () => o.gpu ?? false,
    setBackend: async (name: string) => {
      if ((o.failing ?? []).includes(name)) return false;
      e.active = name;
      return true;
    },
    activeBackend: () => e.active,
    installWebGpu: () => {
      if (o.webgpuFails) throw new Error("no adapter");
    },
  };
  return e;
}
const WASM = "@tensorflow/tfjs-backend-wasm";

describe("fusion/inference/backends", function () {
  this.timeout(30_000);
  it("auto picks tfjs-node-gpu when installed and a CUDA GPU is present", async () => {
    const s = await selectBackend("auto", env({ modules: ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node", WASM], gpu: true }));
    assert.equal(s.chosen, "tensorflow-gpu");
    assert.equal(s.tfBackend, "tensorflow");
  });

  it("auto skips the GPU package without a GPU and takes tfjs-node", async () => {
    const s = await selectBackend("auto", env({ modules: ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node", WASM], gpu: false }));
    assert.equal(s.chosen, "tensorflow");
    assert.match(s.log[0]!, /no CUDA GPU/);
  });

  it("auto falls back to wasm when the native packages are not installed (the default install), logging why", async () => {
    const s = await selectBackend("auto", env({ modules: [WASM], gpu: true }));
    assert.equal(s.chosen, "wasm");
    assert.match(s.log[0]!, /tfjs-node-gpu not installed \(npm install @tensorflow\/tfjs-node-gpu\)/);
    assert.match(s.log[1]!, /tfjs-node not installed/);
    assert.equal(s.log[2], "wasm: selected");
  });

  it("auto falls back to cpu when wasm fails to initialise", async () => {
    const s = await selectBackend("auto", env({ modules: [WASM], failing: ["wasm"] }));
    assert.equal(s.chosen, "cpu");
  });

  it("an explicit --backend never silently falls back", async () => {
    await assert.rejects(selectBackend("tensorflow", env({ modules: [WASM] })), { code: "backend_unavailable" });
    assert.equal((await selectBackend("cpu", env({}))).chosen, "cpu");
  });

  it("onnx: a missing onnxruntime-node says how to install it", async () => {
    await assert.rejects(selectBackend("onnx", env({ modules: [WASM] })), (err: Error & { code?: string }) => {
      assert.equal(err.code, "backend_unavailable");
      assert.match(err.message, /onnx: skipped, onnxruntime-node not installed \(npm install onnxruntime-node; offline: ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node\)/);
      return true;
    });
  });

  it("onnx: selected with its execution provider and threads, decisions record 'onnx', and TF.js keeps wasm for loading models", async () => {
    const e = Object.assign(env({ modules: [WASM], ort: fakeOrt(["cpu", "webgpu"]) }), { onnxThreads: 3 });
    const s = await selectBackend("onnx", e);
    assert.equal(s.chosen, "onnx");
    assert.equal(s.tfBackend, "onnx");
    assert.deepEqual({ ep: s.ort?.executionProvider, threads: s.ort?.threads, name: s.ort?.name }, { ep: "cpu", threads: 3, name: "onnx" });
    assert.equal(e.active, "wasm");
  });

  it("onnx-webgpu: an execution provider that is not in the build, or that fails to start, is a reason, not a crash", async () => {
    await assert.rejects(selectBackend("onnx-webgpu", env({ modules: [WASM], ort: fakeOrt(["cpu"]) })), /has no webgpu execution provider \(it has cpu\)/);
    await assert.rejects(selectBackend("onnx-webgpu", env({ modules: [WASM], ort: fakeOrt(["cpu", "webgpu"], ["webgpu"]) })), /WebGPU execution provider does not work here \(no adapter for webgpu\)/);
  });

  it("webgpu: a missing @tensorflow/tfjs-backend-webgpu or webgpu package says how to install it; a missing adapter says so", async () => {
    await assert.rejects(selectBackend("webgpu", env({ modules: [WASM] })), /webgpu not installed \(npm install webgpu\)/);
    await assert.rejects(selectBackend("webgpu", env({ modules: [WASM, "webgpu"] })), /@tensorflow\/tfjs-backend-webgpu not installed \(npm install @tensorflow\/tfjs-backend-webgpu\)/);
    await assert.rejects(selectBackend("webgpu", env({ modules: [WASM, "webgpu", "@tensorflow/tfjs-backend-webgpu"], webgpuFails: true })), /no WebGPU adapter from Dawn \(no adapter\)/);
    const s = await selectBackend("webgpu", env({ modules: [WASM, "webgpu", "@tensorflow/tfjs-backend-webgpu"] }));
    assert.equal(s.tfBackend, "webgpu");
  });

  it("auto with a probe times every working candidate on the model, takes the fastest and says why each other was not taken", async () => {
    const times: Record<string, number> = { onnx: 0.05, wasm: 0.4, cpu: 2 };
    const probed: string[] = [];
    const probe = async (s: BackendSelection): Promise<number> => {
      probed.push(s.chosen);
      if (s.chosen === "onnx-webgpu") throw new Error("GPU lost");
      return times[s.chosen]!;
    };
    const e = env({ modules: [WASM], ort: fakeOrt(["cpu", "webgpu"]) });
    const s = await selectBackend("auto", e, probe);
    assert.equal(s.chosen, "onnx");
    assert.ok(s.ort);
    assert.deepEqual(probed, ["onnx-webgpu", "onnx", "wasm", "cpu"]);
    assert.deepEqual(s.log, [
      "onnx-webgpu: skipped, the model does not run on it (GPU lost)",
      "webgpu: skipped, webgpu not installed (npm install webgpu)",
      "tensorflow-gpu: skipped, no CUDA GPU visible",
      "onnx: selected, fastest on the model (b1 median 0.050 ms)",
      "tensorflow: skipped, @tensorflow/tfjs-node not installed (npm install @tensorflow/tfjs-node)",
      "wasm: works, slower on the model (b1 median 0.400 ms)",
      "cpu: works, slower on the model (b1 median 2.000 ms)",
    ]);
    assert.equal(e.active, "wasm", "the TF.js side is wasm again after the probe left cpu active");
  });

  it("auto with a probe and nothing that works throws backend_unavailable with every reason", async () => {
    await assert.rejects(selectBackend("auto", env({ failing: ["wasm", "cpu"] }), async () => 1), (err: Error & { code?: string }) => {
      assert.equal(err.code, "backend_unavailable");
      assert.match(err.message, /onnx: skipped, onnxruntime-node not installed/);
      assert.match(err.message, /cpu: skipped, tf.setBackend\("cpu"\) failed/);
      return true;
    });
  });

  it("the real environment picks the fastest working backend: wasm or better, never cpu, here", async () => {
    const s = await selectBackend("auto");
    assert.notEqual(s.chosen, "cpu", s.log.join("; "));
  });

  it("the real environment: onnx works from the npm tarball alone; onnx-webgpu and webgpu either work or say why", async () => {
    const s = await selectBackend("onnx", nodeBackendEnv());
    assert.equal(s.ort?.executionProvider, "cpu");
    for (const name of ["onnx-webgpu", "webgpu"] as const) {
      try {
        const g = await selectBackend(name, nodeBackendEnv());
        assert.equal(g.chosen, name);
      } catch (err) {
        assert.equal((err as { code?: string }).code, "backend_unavailable");
        assert.match((err as Error).message, new RegExp(`${name}: skipped, .+`));
      }
    }
    await selectBackend("wasm");
  });
});
