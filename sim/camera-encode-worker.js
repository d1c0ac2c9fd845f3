// Entry of a camera encoding worker thread (camera-encode-pool.ts): the TypeScript loader (tsx) is registered per thread.
import { register } from "tsx/esm/api";

register();
await import("./camera-encode-worker.ts");
