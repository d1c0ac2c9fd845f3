/**
 * Opening an mqtt.js v5 client the way fusiond needs it: MQTT 5 where the broker speaks it (falling
 * back to 3.1.1 for aedes), Nagle off on every (re)connection, reconnect with capped exponential
 * backoff, credentials and TLS passed through, no hidden offline queue for QoS 0.
 */
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import type { Socket } from "node:net";
import { cutSecrets, FusiondError, withoutUserinfo } from "../schemas/index.ts";

export interface MqttTlsOptions {
  ca?: string | Buffer | string[] | Buffer[];
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Passphrase of an encrypted `key` (PKCS#8 or traditional PEM). Never logged nor put in an error. */
  passphrase?: string;
  rejectUnauthorized?: boolean;
  servername?: string;
}

export interface MqttConnectOptions {
  /** mqtt://host:port, mqtts://..., ws://... */
  url: string;
  /** 5, 4 (3.1.1), or "auto" (default): MQTT 5, and 3.1.1 if the broker refuses 5 (aedes does). */
  protocolVersion?: 4 | 5 | "auto";
  clientId?: string;
  username?: string;
  password?: string;
  tls?: MqttTlsOptions;
  /** Give up on the first connection after this long (default 5000 ms); later losses reconnect forever. */
  connectTimeoutMs?: number;
  /** Reconnect delay: starts at initialMs, doubles per failed attempt up to maxMs (default 250 → 15000). */
  reconnect?: { initialMs: number; maxMs: number };
  keepaliveS?: number;
  /** Connection events, for logs (connected, offline, reconnecting in N ms, errors). */
  onStatus?: (event: MqttStatusEvent) => void;
  /** Anything else for mqtt.js (used last; overrides the above). */
  mqtt?: Partial<IClientOptions>;
}

export type MqttStatusEvent =
  | { kind: "connected"; protocolVersion: 4 | 5 }
  | { kind: "offline" }
  | { kind: "reconnecting"; delayMs: number }
  | { kind: "error"; message: string };

/** mqtt.js connack return code 1 (3.1.1) / reason 132 (5): unsupported protocol version. */
const isUnsupportedProtocol = (err: unknown): boolean => {
  const code = err instanceof FusiondError ? err.context["code"] : undefined;
  return code === 1 || code === 132;
};

/** Opens a client and waits for the first CONNACK. Rejects with FusiondError `mqtt_connect_failed`. */
export async function connectMqtt(options: MqttConnectOptions): Promise<{ client: MqttClient; protocolVersion: 4 | 5 }> {
  const wanted = options.protocolVersion ?? "auto";
  if (wanted !== 4) {
    try {
      return { client: await attempt(options, 5), protocolVersion: 5 };
    } catch (err) {
      if (!(wanted === "auto" && isUnsupportedProtocol(err))) throw err;
    }
  }
  return { client: await attempt(options, 4), protocolVersion: 4 };
}

function userinfoPassword(url: string): string | undefined {
  try {
    const p = new URL(url).password;
    return p ? decodeURIComponent(p) : undefined;
  } catch {
    return undefined;
  }
}

/** What to do about the common refusals: a missing or unknown client certificate, bad credentials. */
function connectHint(err: Error & { code?: unknown }, options: MqttConnectOptions): string {
  const code = String(err.code ?? "");
  if (/CERTIFICATE_REQUIRED|alert certificate required|handshake failure/i.test(`${code} ${err.message}`) && !options.tls?.cert) {
    return " — the broker requires a client certificate: set mqtt.certFile and mqtt.keyFile (--mqtt-cert, --mqtt-key)";
  }
  if (/bad decrypt|BAD_DECRYPT|passphrase/i.test(`${code} ${err.message}`)) {
    return " — the client key is encrypted: check mqtt.keyPassphrase (or FUSIOND_MQTT_KEY_PASSPHRASE)";
  }
  if (err.code === 4 || err.code === 134) return " — the broker refused the username or password";
  if (err.code === 5 || err.code === 135) return " — the broker refused this client: check the username and password (Mosquitto answers a wrong one with this on MQTT 5) and that its certificate identity is allowed";
  return "";
}

function attempt(options: MqttConnectOptions, protocolVersion: 4 | 5): Promise<MqttClient> {
  const backoff = options.reconnect ?? { initialMs: 250, maxMs: 15_000 };
  const clientOptions: IClientOptions = {
    protocolVersion,
    reconnectPeriod: backoff.initialMs,
    connectTimeout: options.connectTimeoutMs ?? 5000,
    keepalive: options.keepaliveS ?? 30,
    clean: true,
    // QoS 0 publishes while offline fail (counted by the sink) instead of piling up unbounded.
    queueQoSZero: false,
    ...(options.clientId ? { clientId: options.clientId } : {}),
    ...(options.username !== undefined ? { username: options.username } : {}),
    ...(options.password !== undefined ? { password: options.password } : {}),
    ...(options.tls ?? {}),
    ...(options.mqtt ?? {}),
  };
  let client: MqttClient;
  try {
    client = mqtt.connect(options.url, clientOptions);
  } catch (err) {
    // Node's TLS throws at once on a key it cannot read (an encrypted key with a wrong or no passphrase).
    const e = err as Error & { code?: unknown };
    const url = withoutUserinfo(options.url);
    const message = cutSecrets(e.message, [options.password, options.tls?.passphrase, userinfoPassword(options.url)]);
    return Promise.reject(new FusiondError("mqtt_connect_failed", `cannot connect to ${url}: ${message}${connectHint(e, options)}`, { url, protocolVersion, code: e.code }));
  }
  const status = options.onStatus ?? ((): void => {});
  let delay = backoff.initialMs;

  client.on("connect", () => {
    // None of mqtt.js, aedes or Mosquitto disables Nagle; with it on, QoS 1 acks stall behind
    // delayed ACKs (4 KB QoS 1 through aedes: ~2.3k msg/s with Nagle, ~15k without).
    (client.stream as unknown as Partial<Socket>).setNoDelay?.(true);
    delay = backoff.initialMs;
    client.options.reconnectPeriod = delay;
    status({ kind: "connected", protocolVersion });
  });
  client.on("offline", () => status({ kind: "offline" }));
  client.on("close", () => {
    // mqtt.js schedules reconnects on a fixed interval set at the first loss (in its own "close"
    // listener, which runs before this one); it has no backoff (mqttjs/MQTT.js#561). Reschedule it
    // with the next delay. These two methods are private in mqtt.js 5 — test/sensors/mqtt-transport
    // ("reconnects with growing backoff") fails if they change.
    if (client.disconnecting || !(clientOptions.reconnectPeriod! > 0)) return;
    const jittered = Math.max(1, Math.round(delay * (0.8 + 0.4 * Math.random())));
    client.options.reconnectPeriod = jittered;
    const internals = client as unknown as { _clearReconnect(): void; _setupReconnect(): void };
    internals._clearReconnect();
    internals._setupReconnect();
    status({ kind: "reconnecting", delayMs: jittered });
    delay = Math.min(backoff.maxMs, delay * 2);
  });

  return new Promise<MqttClient>((resolve, reject) => {
    let lastError: Error | undefined;
    const fail = (err: Error & { code?: unknown }): void => {
      clearTimeout(timer);
      client.removeListener("connect", ok);
      client.removeListener("error", onError);
      client.end(true);
      const url = withoutUserinfo(options.url);
      // The cause may carry the options it was given (mqtt.js errors do not, TLS errors might): keep
      // only its message and code, with any secret cut out.
      const secrets = [options.password, options.tls?.passphrase, userinfoPassword(options.url)];
      const message = cutSecrets(err.message, secrets).replace(/\s+/g, " ").trim();
      reject(
        new FusiondError("mqtt_connect_failed", `cannot connect to ${url} (MQTT ${protocolVersion === 5 ? "5" : "3.1.1"}): ${message}${connectHint(err, options)}`, {
          url,
          protocolVersion,
          code: err.code,
        }),
      );
    };
    const onError = (err: Error & { code?: unknown }): void => {
      lastError = err;
      // A refused CONNACK (bad protocol, bad credentials) or a refused TLS handshake (no or unknown
      // client certificate, untrusted server) will not get better by retrying.
      if (typeof err.code === "number" || (typeof err.code === "string" && /^ERR_SSL_|^ERR_TLS_|CERT|SELF_SIGNED/.test(err.code))) fail(err);
    };
    const ok = (): void => {
      clearTimeout(timer);
      client.removeListener("error", onError);
      client.on("error", (err) => status({ kind: "error", message: err.message }));
      resolve(client);
    };
    const timer = setTimeout(
      () => fail(lastError ?? new Error(`no CONNACK within ${clientOptions.connectTimeout} ms`)),
      (options.connectTimeoutMs ?? 5000) + 50,
    );
    client.once("connect", ok);
    client.on("error", onError);
  });
}
