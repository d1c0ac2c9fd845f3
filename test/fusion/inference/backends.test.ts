import assert from "node:assert/strict";
import { selectBackend, type BackendEnv } from "../../../fusion/inference/backends.ts";

/** A stub world: which modules import, whether a GPU is visible, which backends initialise. */
function env(o: { modules?: string[]; gpu?: boolean; failing?: string[] }): BackendEnv & { active: string } {
  const e = {
    active: "cpu",
    importModule: async (name: string) => {
      if (!(o.modules ?? []).includes(name)) throw new Error(`Cannot find package '${name}'`);
      return {};
    },
    hasCudaGpu: () => o.gpu ?? false,
    setBackend: async (name: string) => {
      if ((o.failing ?? []).includes(name)) return false;
      e.active = name;
      return true;
    },
    activeBackend: () => e.active,
  };
  return e;
}
const WASM = "@tensorflow/tfjs-backend-wasm";

describe("fusion/inference/backends", () => {
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
    assert.match(s.log[0]!, /tfjs-node-gpu not available/);
    assert.match(s.log[1]!, /tfjs-node not available/);
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

  it("the real environment picks the fastest working backend: wasm or better, never cpu, here", async () => {
    const s = await selectBackend("auto");
    assert.notEqual(s.chosen, "cpu", s.log.join("; "));
  });
});
