/**
 * close()'s wait for a quiet peer: runs `go` once nothing of ours is in flight (`busy()` false) and no
 * message from the peer arrived for `quietMs` (every message re-arms it), at the latest after `maxMs`.
 * dcp-client rejects the responses still in its queue when a close arrives, and its event subscriber
 * does not catch that.
 */
import { timer } from './ports';

export class QuietWait {
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #max: ReturnType<typeof setTimeout>;
  #done = false;

  constructor(
    private readonly quietMs: number,
    maxMs: number,
    private readonly go: () => void,
    private readonly busy: () => boolean,
  ) {
    this.#max = timer(() => this.#fire(), maxMs);
    this.arm();
  }

  /** (Re)start the quiet timer; called when the wait starts and on every message received. */
  arm(): void {
    if (this.#done) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = timer(() => {
      this.#timer = undefined;
      // our own messages still in flight: their acks (which re-arm this timer) are still to come
      if (this.busy()) return;
      this.#fire();
    }, this.quietMs);
  }

  /** Stop waiting without running `go` (the session closed meanwhile). */
  cancel(): void {
    this.#done = true;
    if (this.#timer) clearTimeout(this.#timer);
    clearTimeout(this.#max);
  }

  #fire(): void {
    if (this.#done) return;
    this.cancel();
    this.go();
  }
}
