import type { SocketLike } from '../transport/frames';

type Listener = (arg: never) => void;

/** Two connected in-memory sockets with socket.io's send/'message'/'disconnect' shape. */
export function socketPair(): [MemorySocket, MemorySocket] {
  const a = new MemorySocket();
  const b = new MemorySocket();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

export class MemorySocket implements SocketLike {
  peer: MemorySocket | undefined;
  connected = true;
  readonly sent: string[] = [];
  readonly #listeners = new Map<string, Listener[]>();

  send(data: string): void {
    if (!this.connected) return;
    this.sent.push(data);
    const peer = this.peer;
    if (peer) queueMicrotask(() => peer.#emit('message', data));
  }

  on(event: string, listener: Listener): this {
    this.#listeners.set(event, [...(this.#listeners.get(event) ?? []), listener]);
    return this;
  }

  disconnect(): void {
    if (!this.connected) return;
    this.connected = false;
    this.#emit('disconnect', 'io client disconnect');
    const peer = this.peer;
    if (peer?.connected) {
      peer.connected = false;
      queueMicrotask(() => peer.#emit('disconnect', 'transport close'));
    }
  }

  #emit(event: string, arg: unknown): void {
    for (const l of this.#listeners.get(event) ?? []) (l as (a: unknown) => void)(arg);
  }
}
