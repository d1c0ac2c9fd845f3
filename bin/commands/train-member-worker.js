// Entry of an ensemble member's worker thread: the TypeScript loader (tsx) is registered per thread.
import { register } from "tsx/esm/api";

register();
await import("./train-member.ts");
