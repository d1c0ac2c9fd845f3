/** The bearer-token check and the Origin rule, as properties over arbitrary inputs (fast-check). */
import { strict as assert } from "node:assert";
import type { IncomingMessage } from "node:http";
import fc from "fast-check";
import { bearerCheck } from "../../bin/daemon/bearer.ts";
import { originAllowed } from "../../bin/daemon/foxglove.ts";

const request = (headers: Record<string, string>, url = "/"): IncomingMessage => ({ headers, url }) as unknown as IncomingMessage;
const tokenArb = fc.stringMatching(/^[\x21-\x7e]{16,64}$/);

describe("bin/daemon/bearer and the live view's Origin rule", () => {
  it("admits exactly the configured token, by header (and by ?token= only where allowed)", () => {
    fc.assert(
      fc.property(tokenArb, fc.string({ maxLength: 80 }), (token, other) => {
        const check = bearerCheck(token);
        assert.equal(check(request({ authorization: `Bearer ${token}` })), true);
        assert.equal(check(request({ authorization: `Bearer ${other}` })), other.trim() === token);
        assert.equal(check(request({})), false);
        assert.equal(check(request({}, `/?token=${encodeURIComponent(token)}`)), false, "no query token on plain HTTP");
        assert.equal(bearerCheck(token, { allowQuery: true })(request({}, `/?token=${encodeURIComponent(token)}`)), true);
      }),
      { numRuns: 300 },
    );
    assert.equal(bearerCheck(undefined)(request({})), true, "no token configured: open");
  });

  it("lets in no Origin, loopback origins and listed ones; any other host is refused", () => {
    const host = fc.domain().filter((d) => d !== "localhost" && !/^127\./.test(d));
    fc.assert(
      fc.property(host, fc.constantFrom("http", "https"), fc.option(fc.integer({ min: 1, max: 65535 })), (h, scheme, port) => {
        const origin = `${scheme}://${h}${port ? `:${port}` : ""}`;
        assert.equal(originAllowed(origin), false, origin);
        assert.equal(originAllowed(origin, [origin]), true);
        assert.equal(originAllowed(`${scheme}://localhost${port ? `:${port}` : ""}`), true);
        // A loopback name as a subdomain of another host is still that other host.
        assert.equal(originAllowed(`${scheme}://localhost.${h}`), false);
        assert.equal(originAllowed(`${scheme}://127.0.0.1.${h}`), false);
      }),
      { numRuns: 300 },
    );
    assert.equal(originAllowed(undefined), true);
    assert.equal(originAllowed("null"), false);
  });
});
