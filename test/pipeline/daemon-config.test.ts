import { strict as assert } from "node:assert";
import { FusiondError } from "../../schemas/index.ts";
import { parseDaemonConfig } from "../../pipeline/daemon-config.ts";
import { DEFAULT_ALIGNER_CONFIG, resolveAlignerConfig } from "../../pipeline/index.ts";
import { alignerConfigFrom } from "../../pipeline/daemon-aligner.ts";

describe("pipeline/daemon-config", () => {
  it("fills defaults around a minimal config", () => {
    const c = parseDaemonConfig({ mqtt: { url: "mqtt://127.0.0.1:1883" } });
    assert.equal(c.vehicle, "ego1");
    assert.equal(c.model.dir, "models/default");
    assert.equal(c.http.listen, "127.0.0.1:9464");
    assert.deepEqual(c.aligner, {}, "an omitted aligner key is left to the aligner");
  });

  it("has no aligner defaults of its own: an empty config resolves to the aligner's DEFAULT_ALIGNER_CONFIG, the radar's min interval from the topic registry", () => {
    const c = parseDaemonConfig({ mqtt: { url: "mqtt://127.0.0.1:1883" } });
    // The one value not the aligner's: 80% of the registry's 20 Hz radar period (the aligner alone waits for proof, 0).
    assert.deepEqual(resolveAlignerConfig(alignerConfigFrom(c.aligner, c.vehicle)), { ...DEFAULT_ALIGNER_CONFIG, radarMinIntervalNs: 40_000_000n, referenceTopic: undefined });
    assert.equal(DEFAULT_ALIGNER_CONFIG.radarMinIntervalNs, 0n);
    assert.equal(resolveAlignerConfig(alignerConfigFrom(parseDaemonConfig({ mqtt: { url: "mqtt://127.0.0.1:1883" }, aligner: { radarMinIntervalMs: 0 } }).aligner, "ego1")).radarMinIntervalNs, 0n, "the config's own value wins");
    assert.deepEqual(DEFAULT_ALIGNER_CONFIG.noWaitFor, ["gnss", "ego"], "the daemon's (and training's) alignment: neither holds a frame back");
  });

  it("names every bad key and what is allowed", () => {
    assert.throws(
      () => parseDaemonConfig({ mqtt: { url: "http://x" }, aligner: { maxDelayMs: -1 }, bogus: 1, http: { listen: "nope" } }, "car.yaml"),
      (e: unknown) => {
        assert.ok(e instanceof FusiondError && e.code === "bad_config");
        assert.match(e.message, /^car\.yaml is not a valid fusiond config/);
        assert.match(e.message, /mqtt\.url: expected an MQTT URL/);
        assert.match(e.message, /aligner\.maxDelayMs: .*>0/);
        assert.match(e.message, /Unrecognized key: "bogus"/);
        assert.match(e.message, /http\.listen: expected HOST:PORT/);
        return true;
      },
    );
  });

  it("requires an input transport", () => {
    assert.throws(() => parseDaemonConfig({}), /no input: set mqtt\.url/);
    assert.doesNotThrow(() => parseDaemonConfig({ zmq: { subscribe: ["tcp://127.0.0.1:5555"] } }));
  });

  it("takes `http: off` (and false) as docs/deployment.md offers it", () => {
    for (const http of ["off", false]) assert.equal(parseDaemonConfig({ mqtt: { url: "mqtt://127.0.0.1:1883" }, http }).http.listen, "off");
    assert.throws(() => parseDaemonConfig({ mqtt: { url: "mqtt://127.0.0.1:1883" }, http: "on" }), /http/);
  });
});
