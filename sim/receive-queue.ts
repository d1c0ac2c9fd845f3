/**
 * Messages in flight between a sensor and the receiver: a binary min-heap by receive time, ties broken by
 * the order they were sent, so that the output order is total and deterministic.
 */
export interface InFlight {
  receiveNs: bigint;
}

export class ReceiveQueue<T extends InFlight> {
  private readonly heap: { item: T; seq: number }[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(item: T): void {
    const h = this.heap;
    h.push({ item, seq: this.seq++ });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  /** Removes and returns every item received at or before `ns`, in receive order. */
  popUntil(ns: bigint): T[] {
    const out: T[] = [];
    while (this.heap.length && this.heap[0]!.item.receiveNs <= ns) out.push(this.pop());
    return out;
  }

  private pop(): T {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top.item;
  }

  private less(a: { item: T; seq: number }, b: { item: T; seq: number }): boolean {
    return a.item.receiveNs < b.item.receiveNs || (a.item.receiveNs === b.item.receiveNs && a.seq < b.seq);
  }
}
