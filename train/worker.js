// Entry of a training worker thread (an ensemble member, or feature extraction): the TypeScript loader (tsx) is registered per thread.
import { register } from "tsx/esm/api";

register();
await import("./worker.ts");
