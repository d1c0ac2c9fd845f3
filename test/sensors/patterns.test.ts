import { strict as assert } from "node:assert";
import fc from "fast-check";
import { FusiondError, topicMatches } from "../../schemas/index.ts";
import { compilePatterns, literalPrefix, validatePattern } from "../../sensors/index.ts";

describe("sensors/patterns", () => {
  it("matches + as one level and # as the rest (including the parent level)", () => {
    const m = compilePatterns(["vehicles/+/sensors/#"]);
    assert.ok(m("vehicles/ego1/sensors/radar/front"));
    assert.ok(m("vehicles/ego1/sensors"));
    assert.ok(!m("vehicles/ego1/ego"));
    assert.ok(!m("vehicles/sensors/radar"));
    assert.ok(compilePatterns(["#"])("anything/at/all"));
    assert.ok(compilePatterns(["a/+"])("a/"), "+ matches an empty level");
    assert.ok(!compilePatterns(["a.b"])("aXb"), "regex characters are literal");
  });

  it("agrees with the registry's topicMatches on any pattern and topic (property)", () => {
    const level = fc.constantFrom("a", "b", "c.d", "");
    const topic = fc.array(level, { minLength: 1, maxLength: 5 }).map((ls) => ls.join("/"));
    const pattern = fc
      .tuple(fc.array(fc.oneof(level, fc.constant("+")), { minLength: 0, maxLength: 4 }), fc.boolean())
      .filter(([ls, hash]) => ls.length > 0 || hash)
      .map(([ls, hash]) => [...ls, ...(hash ? ["#"] : [])].join("/"))
      .filter((p) => p.length > 0);
    fc.assert(fc.property(pattern, topic, (p, t) => compilePatterns([p])(t) === topicMatches(p, t)));
  });

  it("rejects invalid patterns with bad_pattern", () => {
    for (const p of ["", "a/#/b", "a/b#", "a/+b", "#/a"]) {
      assert.throws(() => validatePattern(p), (e: unknown) => e instanceof FusiondError && e.code === "bad_pattern", p);
    }
  });

  it("gives ZeroMQ the literal prefix before the first wildcard", () => {
    assert.equal(literalPrefix("vehicles/ego1/ego"), "vehicles/ego1/ego");
    assert.equal(literalPrefix("vehicles/+/sensors/#"), "vehicles/");
    assert.equal(literalPrefix("vehicles/ego1/#"), "vehicles/ego1/");
    assert.equal(literalPrefix("#"), "");
  });
});
