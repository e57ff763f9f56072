/**
 * Groups work submitted during one event-loop turn into one call (one DB transaction, one round of
 * pushes): hot paths such as result submission batch per tick instead of per slice.
 */
export class TickBatcher<I, O> {
  #queue: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  #scheduled = false;
  #running: Promise<void> = Promise.resolve();

  constructor(
    private readonly flush: (items: I[]) => Promise<O[]>,
    private readonly maxBatch = 500,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          this.#running = this.#running.then(() => this.#drain());
        });
      }
    });
  }

  /** Resolves once everything submitted so far is flushed. */
  async idle(): Promise<void> {
    while (this.#queue.length || this.#scheduled) {
      await new Promise((r) => setImmediate(r));
      await this.#running;
    }
    await this.#running;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length) {
      const batch = this.#queue.splice(0, this.maxBatch);
      try {
        const out = await this.flush(batch.map((b) => b.item));
        for (const [i, b] of batch.entries()) b.resolve(out[i] as O);
      } catch (error) {
        for (const b of batch) b.reject(error);
      }
    }
  }
}
