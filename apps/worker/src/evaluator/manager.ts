import { DcpErrorCode } from '@dcp-emu/protocol';
import type { Logger } from '@dcp-emu/service-kit';
import type { Session } from './session';

export interface ManagerLimits {
  maxSandboxes: number;
  maxTotalHeapMb: number;
  watchdogIntervalMs: number;
  /**
   * Backstop for memory outside every sandbox's accounting: above this resident size of the whole
   * process (beyond what it held at start) the largest sandbox is killed (ENOMEM). Default: the total
   * heap budget + 1 GiB.
   */
  maxRssMb?: number;
}

/**
 * The evaluator manager (cf. dcp-worker's dcp-evaluator-manager): admits a sandbox only below
 * `maxSandboxes`, runs every sandbox's watchdog, and sheds load by killing the largest sandbox
 * (ENOMEM) while the isolates together hold more than `maxTotalHeapMb`.
 */
export class EvaluatorManager {
  private readonly sessions = new Set<Session>();
  private timer: NodeJS.Timeout | undefined;
  private checkingHeap = false;
  /** the process's RSS before any sandbox: what the evaluator itself needs */
  private readonly baselineRss: number;
  /** after a kill for RSS, give the freed memory time to leave the RSS before judging it again */
  private rssHoldUntil = 0;

  constructor(
    private readonly limits: ManagerLimits,
    private readonly logger: Logger,
    /** resident memory of this process (injectable for tests) */
    private readonly rss: () => number = () => process.memoryUsage.rss(),
  ) {
    this.baselineRss = rss();
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Registers a session if there is room; false = refuse it. */
  admit(session: Session): boolean {
    if (this.sessions.size >= this.limits.maxSandboxes) return false;
    this.sessions.add(session);
    void session.done.then(() => this.sessions.delete(session));
    if (!this.timer) {
      this.timer = setInterval(() => this.check(), this.limits.watchdogIntervalMs);
      this.timer.unref();
    }
    return true;
  }

  /**
   * One watchdog round: per-sandbox limits (synchronous, never waits for a busy isolate), then
   * the total heap (asynchronous; at most one such round in flight).
   */
  check(): void {
    const now = Date.now();
    for (const s of this.sessions) s.current?.check(now);
    if (this.sessions.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    if (!this.checkingHeap) {
      this.checkingHeap = true;
      void this.checkHeap().finally(() => {
        this.checkingHeap = false;
      });
    }
  }

  private async checkHeap(): Promise<void> {
    const limit = this.limits.maxTotalHeapMb * 1024 * 1024;
    const sizes = await Promise.all(
      [...this.sessions].map(async (s) => [s, (await s.current?.heapBytes()) ?? 0] as const),
    );
    let total = sizes.reduce((sum, [, b]) => sum + b, 0);
    sizes.sort((a, b) => b[1] - a[1]);
    const rssLimit = (this.limits.maxRssMb ?? this.limits.maxTotalHeapMb + 1024) * 1024 * 1024;
    const resident = this.rss() - this.baselineRss;
    if (resident > rssLimit && Date.now() >= this.rssHoldUntil && sizes[0]) {
      this.rssHoldUntil = Date.now() + 2_000;
      this.logger.warn({ resident, rssLimit }, 'evaluator RSS over its limit: killing the largest sandbox');
      sizes[0][0].kill(DcpErrorCode.ENOMEM, `evaluator memory above ${Math.round(rssLimit / 1048576)} MiB`);
      total -= sizes[0][1];
      sizes.shift();
    }
    for (const [session, bytes] of sizes) {
      if (total <= limit) break;
      this.logger.warn(
        { bytes, total, limit },
        'evaluator over its heap budget: killing the largest sandbox',
      );
      session.kill(
        DcpErrorCode.ENOMEM,
        `evaluator over its total heap budget (${this.limits.maxTotalHeapMb} MiB)`,
      );
      total -= bytes;
    }
  }

  /** Kills every sandbox (shutdown). */
  killAll(message: string): void {
    for (const s of this.sessions) s.kill(null, message);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
