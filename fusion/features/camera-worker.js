// Entry of a camera feature worker thread (camera-pool.ts): the TypeScript loader (tsx) is registered per thread.
import { register } from "tsx/esm/api";

register();
await import("./camera-worker.ts");
