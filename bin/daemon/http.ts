/**
 * The daemon's HTTP endpoints: GET /metrics (Prometheus text from prom-client), GET /healthz
 * (the process and its inputs are alive) and GET /readyz (a model is warm and decisions can flow).
 * Both probes answer 200 or 503 with a JSON body saying why. With a token, every request must carry
 * `Authorization: Bearer TOKEN` (401 otherwise); loopback is the default listen address either way.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import { bearerCheck, UNAUTHORIZED_HEADERS } from "./bearer.ts";

export interface ProbeResult {
  ok: boolean;
  /** Why, in words and numbers (shown in the JSON body). */
  detail: Record<string, unknown>;
}

export interface HttpEndpointsOptions {
  host: string;
  /** 0 = any free port. */
  port: number;
  registry: Registry;
  health: () => ProbeResult;
  ready: () => ProbeResult;
  /** Bearer token required on every path (constant-time compared); none = open (loopback by default). */
  token?: string;
}

export interface HttpEndpoints {
  readonly url: string;
  close(): Promise<void>;
}

export async function startHttpEndpoints(options: HttpEndpointsOptions): Promise<HttpEndpoints> {
  const authorised = bearerCheck(options.token);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (!authorised(req)) {
      res.writeHead(401, UNAUTHORIZED_HEADERS).end("unauthorised: send 'Authorization: Bearer TOKEN' (the token is http.token, or FUSIOND_HTTP_TOKEN)\n");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/metrics") {
      options.registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": options.registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(String(err)),
      );
      return;
    }
    if (path === "/healthz" || path === "/readyz") {
      const probe = path === "/healthz" ? options.health() : options.ready();
      res
        .writeHead(probe.ok ? 200 : 503, { "content-type": "application/json" })
        .end(JSON.stringify({ ok: probe.ok, ...probe.detail }, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)));
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" }).end("not found: try /metrics, /healthz or /readyz\n");
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** "host:port" (an IPv6 host in brackets) as its parts. */
export function hostPort(listen: string): { host: string; port: number } {
  const at = listen.lastIndexOf(":");
  return { host: listen.slice(0, at).replace(/^\[|\]$/g, ""), port: Number(listen.slice(at + 1)) };
}
