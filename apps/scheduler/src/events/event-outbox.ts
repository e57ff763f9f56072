/**
 * Flow control of the `event` requests pushed over one DCP session: at most `window` of them wait for
 * the subscriber's answer; the rest wait here, in order, as plain data (a few hundred bytes each)
 * rather than as queued DCP requests. A client slower than the job (dcp-client answers a few hundred
 * result events per second) then costs the scheduler memory per event in the backlog, not per DCP
 * request, and nothing overtakes the backlog: a job's `stop` still reaches the client after every
 * result pushed before it.
 */
export class EventOutbox<T> {
  readonly #waiting: { item: T; done: (taken: boolean) => void }[] = [];
  #head = 0;
  #inFlight = 0;
  #closed = false;

  constructor(
    /** pushes one item; resolves true once the peer took it */
    private readonly send: (item: T) => Promise<boolean>,
    readonly window: number,
  ) {
    if (!(window >= 1)) throw new RangeError(`event window must be ≥ 1 (got ${window})`);
  }

  /** Items not yet sent (the backlog). */
  get backlog(): number {
    return this.#waiting.length - this.#head;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Sends `item` in its turn; resolves true once the peer took it, false if it never will. */
  push(item: T): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    return new Promise((done) => {
      this.#waiting.push({ item, done });
      this.#pump();
    });
  }

  /** The session is gone: everything still waiting resolves false. */
  close(): void {
    this.#closed = true;
    const rest = this.#waiting.splice(this.#head);
    this.#waiting.length = 0;
    this.#head = 0;
    for (const w of rest) w.done(false);
  }

  #pump(): void {
    while (!this.#closed && this.#inFlight < this.window && this.#head < this.#waiting.length) {
      const next = this.#waiting[this.#head]!;
      this.#waiting[this.#head++] = undefined as never;
      if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) {
        this.#waiting.splice(0, this.#head);
        this.#head = 0;
      }
      this.#inFlight++;
      this.send(next.item)
        .catch(() => false)
        .then((taken) => {
          this.#inFlight--;
          next.done(taken);
          this.#pump();
        });
    }
  }
}
