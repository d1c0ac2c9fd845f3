/**
 * How a long-running tool command (echo, record) ends: `stop(why)` runs `close(why)` once, whoever asks first
 * (SIGINT, SIGTERM, a count or a duration reached, the source closed); `finished` resolves when it is done, and
 * an error in `close` goes to `onError`. The signal handlers are released when the stop begins (a second signal
 * then ends the process as usual) or, with `keepSignals`, once it has finished (a second one is ignored).
 */
export interface StopOnce {
  stop(why: string): Promise<void>;
  /** Whether a stop has begun. */
  stopping(): boolean;
  readonly finished: Promise<void>;
}

export function stopOnce(close: (why: string) => Promise<void>, onError: (err: unknown) => void, o: { keepSignals?: boolean } = {}): StopOnce {
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  let stopping: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals): void => void stop(signal);
  const release = (): void => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
  const stop = (why: string): Promise<void> =>
    (stopping ??= (async () => {
      if (!o.keepSignals) release();
      await close(why);
    })()
      .catch(onError)
      .finally(finish));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  return { stop, stopping: () => stopping !== undefined, finished: o.keepSignals ? finished.then(release) : finished };
}
