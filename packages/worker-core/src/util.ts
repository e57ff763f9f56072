import { DcpError } from '@dcp-emu/protocol';

/** The DCP error code of `e`, else `fallback`. */
export function errorCode(e: unknown, fallback: string): string {
  return e instanceof DcpError ? String(e.code) : fallback;
}

export function round(n: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** `p`, or `undefined` once `ms` have passed (the timer does not keep the process alive). */
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([p, new Promise<undefined>((r) => unref(setTimeout(() => r(undefined), ms)))]);
}

/** Node timers keep the process alive unless unref'd; browser timers are numbers. */
export function unref(timer: ReturnType<typeof setTimeout>): void {
  (timer as { unref?: () => void }).unref?.();
}

/** The next turn of the event loop (setImmediate in Node, a zero timeout in browsers). */
export function nextTurn(): Promise<void> {
  return new Promise((r) => {
    if (typeof setImmediate === 'function') setImmediate(r);
    else setTimeout(r, 0);
  });
}

/** dcp-client 5.x `capabilities.toBits` (scheduler-constants): engine v8/spidermonkey/browser, environment, KVINv9. */
export function capabilityBits(caps: Record<string, unknown>): number {
  const engine = (caps.engine ?? {}) as Record<string, unknown>;
  const env = (caps.environment ?? {}) as Record<string, unknown>;
  let bits = 1 << 6; // KVINv9: we read and write KVIN v9
  if (engine.v8 ?? true) bits |= 1 << 0;
  if (engine.spidermonkey) bits |= 1 << 1;
  if (engine.browser) bits |= 1 << 2;
  if (env.offscreenCanvas) bits |= 1 << 3;
  if (env.fdlibm) bits |= 1 << 4;
  if (env.webgpu) bits |= 1 << 5;
  return bits;
}
