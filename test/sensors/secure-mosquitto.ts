/**
 * A Mosquitto of the test's own, set up as a vehicle's broker should be (docs/deployment.md, "Securing
 * the transports"): TLS on a free loopback port, a client certificate required, the certificate's CN as
 * the username, and a per-vehicle ACL — either an acl_file with `pattern` lines (Mosquitto grants every
 * SUBACK and filters deliveries) or the dynamic-security plugin (Mosquitto refuses the SUBACK).
 * Certificates come from the openssl CLI (EC P-256: quick to make). Needs the Debian packages
 * mosquitto and openssl (.ci/run installs both); a missing one fails the test with what to install.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, portOpen, sleep } from "./helpers.ts";

export interface ClientCert {
  cert: string;
  key: string;
}

export interface Pki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  /** A client certificate with CN = name, signed by the CA (its key encrypted when a passphrase is given). */
  client(name: string, passphrase?: string): ClientCert;
  /** A client certificate with CN = name from a CA the broker does not know. */
  stranger(name: string): ClientCert;
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync("openssl", args, { cwd, stdio: "pipe" });
  } catch (err) {
    const e = err as Error & { code?: string; stderr?: Buffer };
    if (e.code === "ENOENT") throw new Error('this test needs the openssl CLI (Debian package "openssl")');
    throw new Error(`openssl ${args.join(" ")} failed: ${e.stderr?.toString() ?? e.message}`);
  }
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];

/** A CA, a server certificate for localhost/127.0.0.1, and client certificates on demand, in a temporary folder. */
export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), "fusiond-pki-"));
  // Mosquitto run as root drops to the "mosquitto" user unless told otherwise; the folder must be readable either way.
  chmodSync(dir, 0o755);
  const selfSigned = (name: string, cn: string): void =>
    openssl(["req", "-x509", ...EC, "-nodes", "-days", "1", "-subj", `/CN=${cn}`, "-keyout", `${name}.key`, "-out", `${name}.pem`], dir);
  const signed = (name: string, cn: string, ca: string, extra: string[] = [], passphrase?: string): void => {
    const keyOpts = passphrase ? ["-passout", `pass:${passphrase}`] : ["-nodes"];
    openssl(["req", ...EC, ...keyOpts, "-subj", `/CN=${cn}`, "-keyout", `${name}.key`, "-out", `${name}.csr`], dir);
    openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.pem`, "-CAkey", `${ca}.key`, "-CAcreateserial", "-days", "1", ...extra, "-out", `${name}.pem`], dir);
  };
  selfSigned("ca", "fusiond test CA");
  writeFileSync(join(dir, "server.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  signed("server", "localhost", "ca", ["-extfile", "server.ext"]);
  for (const f of ["ca.key", "server.key"]) chmodSync(join(dir, f), 0o644);
  let strangerCa = false;
  return {
    dir,
    ca: join(dir, "ca.pem"),
    serverCert: join(dir, "server.pem"),
    serverKey: join(dir, "server.key"),
    client(name, passphrase) {
      const file = `client-${name}${passphrase ? "-enc" : ""}`;
      signed(file, name, "ca", [], passphrase);
      return { cert: join(dir, `${file}.pem`), key: join(dir, `${file}.key`) };
    },
    stranger(name) {
      if (!strangerCa) selfSigned("other-ca", "somebody else's CA");
      strangerCa = true;
      signed(`stranger-${name}`, name, "other-ca");
      return { cert: join(dir, `stranger-${name}.pem`), key: join(dir, `stranger-${name}.key`) };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface SecureMosquitto {
  url: string;
  port: number;
  /** What Mosquitto printed (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

export type AclKind = "acl_file" | "dynsec";

export interface SecureMosquittoOptions {
  /** The certificate's CN is the username (default true); false: a username and password are needed besides the certificate. */
  identityAsUsername?: boolean;
  /** username → password, written with mosquitto_passwd (with identityAsUsername false). */
  passwords?: Record<string, string>;
}

/**
 * Starts `mosquitto -c CONF` on a free port with the given vehicles allowed on their own topics
 * (vehicles/{v}/#) and nothing else.
 */
export async function startSecureMosquitto(pki: Pki, vehicles: string[], acl: AclKind, options: SecureMosquittoOptions = {}): Promise<SecureMosquitto> {
  const port = await freePort();
  const conf = join(pki.dir, `mosquitto-${port}.conf`);
  const lines = [
    "per_listener_settings false",
    `listener ${port} 127.0.0.1`,
    `cafile ${pki.ca}`,
    `certfile ${pki.serverCert}`,
    `keyfile ${pki.serverKey}`,
    "require_certificate true",
    `use_identity_as_username ${options.identityAsUsername ?? true}`,
    "persistence false",
  ];
  if (options.passwords) {
    const file = join(pki.dir, `passwords-${port}`);
    writeFileSync(file, "");
    for (const [user, password] of Object.entries(options.passwords)) execFileSync("mosquitto_passwd", ["-b", file, user, password], { stdio: "pipe" });
    lines.push(`password_file ${file}`, "allow_anonymous false");
  }
  if (process.getuid?.() === 0) lines.push("user root");
  if (acl === "acl_file") {
    const file = join(pki.dir, `acl-${port}`);
    // %u is the username: the certificate's CN here. One line serves every vehicle.
    writeFileSync(file, "pattern read vehicles/%u/#\npattern write vehicles/%u/#\n");
    lines.push(`acl_file ${file}`);
  } else {
    // The dynamic-security plugin of Mosquitto 2.0.11 does not substitute %u: one role per vehicle.
    const file = join(pki.dir, `dynsec-${port}.json`);
    const acls = (v: string): unknown[] =>
      ["subscribePattern", "publishClientSend", "publishClientReceive"].map((acltype) => ({ acltype, topic: `vehicles/${v}/#`, priority: 0, allow: true }));
    writeFileSync(
      file,
      JSON.stringify({
        defaultACLAccess: { publishClientSend: false, publishClientReceive: false, subscribe: false, unsubscribe: true },
        clients: vehicles.map((v) => ({ username: v, roles: [{ rolename: `vehicle-${v}` }] })),
        groups: [],
        roles: vehicles.map((v) => ({ rolename: `vehicle-${v}`, acls: acls(v) })),
      }),
    );
    lines.push("plugin /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so", `plugin_opt_config_file ${file}`);
  }
  writeFileSync(conf, lines.join("\n") + "\n");
  let out = "";
  let child: ChildProcess;
  try {
    child = spawn("mosquitto", ["-c", conf], { stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    throw new Error(`this test needs mosquitto (Debian package "mosquitto"): ${(err as Error).message}`);
  }
  child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (out += b.toString()));
  let exited = false;
  const gone = new Promise<void>((resolve) =>
    child.once("close", () => {
      exited = true;
      resolve();
    }),
  );
  child.once("error", (err) => (out += `spawn failed: ${err.message} (needs Debian package "mosquitto")\n`));
  const end = Date.now() + 10_000;
  while (!(await portOpen(port))) {
    if (exited || Date.now() > end) {
      child.kill("SIGKILL");
      throw new Error(`mosquitto -c ${conf} did not come up on 127.0.0.1:${port}:\n${out}`);
    }
    await sleep(50);
  }
  return {
    url: `mqtts://127.0.0.1:${port}`,
    port,
    log: () => out,
    stop: async () => {
      if (!exited) child.kill("SIGTERM");
      await Promise.race([gone, sleep(3000)]);
      if (!exited) child.kill("SIGKILL");
    },
  };
}
