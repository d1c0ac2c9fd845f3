import { strict as assert } from "node:assert";
import { Counter, Registry } from "prom-client";
import { startHttpEndpoints } from "../../bin/daemon/http.ts";

describe("bin/daemon/http", () => {
  it("serves /metrics, /healthz and /readyz with 200/503 and a reason", async () => {
    const registry = new Registry();
    const c = new Counter({ name: "fusiond_test_total", help: "t", registers: [registry] });
    c.inc(3);
    let ready = false;
    const http = await startHttpEndpoints({
      host: "127.0.0.1",
      port: 0,
      registry,
      health: () => ({ ok: true, detail: { inputs: 2 } }),
      ready: () => ({ ok: ready, detail: { model: ready ? "warm" : "loading" } }),
    });
    try {
      const metrics = await fetch(`${http.url}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(await metrics.text(), /fusiond_test_total 3/);
      const health = await fetch(`${http.url}/healthz`);
      assert.deepEqual([health.status, await health.json()], [200, { ok: true, inputs: 2 }]);
      const notReady = await fetch(`${http.url}/readyz`);
      assert.deepEqual([notReady.status, await notReady.json()], [503, { ok: false, model: "loading" }]);
      ready = true;
      assert.equal((await fetch(`${http.url}/readyz`)).status, 200);
      assert.equal((await fetch(`${http.url}/nope`)).status, 404);
    } finally {
      await http.close();
    }
  });
});
