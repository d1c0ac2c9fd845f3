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

  it("with a token, answers 401 (with a Bearer challenge) unless the request carries 'Authorization: Bearer TOKEN'", async () => {
    const registry = new Registry();
    const token = "0123456789abcdef-token-for-test";
    const http = await startHttpEndpoints({ host: "127.0.0.1", port: 0, registry, token, health: () => ({ ok: true, detail: {} }), ready: () => ({ ok: true, detail: {} }) });
    try {
      for (const path of ["/metrics", "/healthz", "/readyz", "/nope"]) {
        const none = await fetch(`${http.url}${path}`);
        assert.equal(none.status, 401, path);
        assert.match(none.headers.get("www-authenticate") ?? "", /^Bearer/);
        const body = await none.text();
        assert.match(body, /Authorization: Bearer/);
        assert.ok(!body.includes(token), "the 401 does not echo the token");
        for (const wrong of [`Bearer ${token.slice(0, -1)}`, `Bearer ${token}x`, `Basic ${token}`, token, "Bearer "]) {
          assert.equal((await fetch(`${http.url}${path}`, { headers: { authorization: wrong } })).status, 401, `${path} with ${JSON.stringify(wrong)}`);
        }
      }
      // The query string is not a way in for plain HTTP (it ends up in proxies' logs).
      assert.equal((await fetch(`${http.url}/readyz?token=${token}`)).status, 401);
      const ok = { authorization: `Bearer ${token}` };
      assert.equal((await fetch(`${http.url}/metrics`, { headers: ok })).status, 200);
      assert.equal((await fetch(`${http.url}/healthz`, { headers: ok })).status, 200);
      assert.equal((await fetch(`${http.url}/readyz`, { headers: { authorization: `bearer  ${token}` } })).status, 200, "the scheme is case-insensitive");
    } finally {
      await http.close();
    }
  });
});
