'use client';

import { useEffect, useState } from 'react';
import type { ApiError } from './api';

/**
 * One WebSocket per page to `/api/live`, shared by every component that follows a topic. It
 * reconnects with a growing pause (1 s … 10 s) and subscribes again to what is followed.
 */
type Listener = (message: { data?: unknown; error?: ApiError }) => void;
type StatusListener = (status: LiveStatus) => void;
export type LiveStatus = 'connecting' | 'live' | 'offline';

class LiveChannel {
  #socket: WebSocket | null = null;
  #listeners = new Map<string, Set<Listener>>();
  #statusListeners = new Set<StatusListener>();
  #status: LiveStatus = 'connecting';
  #retry = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;

  get status(): LiveStatus {
    return this.#status;
  }

  follow(topic: string, listener: Listener): () => void {
    let set = this.#listeners.get(topic);
    if (!set) {
      set = new Set();
      this.#listeners.set(topic, set);
      this.#send({ type: 'subscribe', topic });
    }
    set.add(listener);
    this.#ensure();
    return () => {
      const s = this.#listeners.get(topic);
      s?.delete(listener);
      if (s && s.size === 0) {
        this.#listeners.delete(topic);
        this.#send({ type: 'unsubscribe', topic });
      }
    };
  }

  onStatus(listener: StatusListener): () => void {
    this.#statusListeners.add(listener);
    listener(this.#status);
    return () => this.#statusListeners.delete(listener);
  }

  #setStatus(status: LiveStatus): void {
    this.#status = status;
    for (const l of this.#statusListeners) l(status);
  }

  #send(message: unknown): void {
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(message));
  }

  #ensure(): void {
    if (this.#socket || this.#timer) return;
    const url = new URL('/api/live', window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(url);
    this.#socket = socket;
    socket.onopen = () => {
      this.#retry = 0;
      this.#setStatus('live');
      for (const topic of this.#listeners.keys()) this.#send({ type: 'subscribe', topic });
    };
    socket.onmessage = (event) => {
      let message: { type?: string; topic?: string; data?: unknown; error?: ApiError };
      try {
        message = JSON.parse(String(event.data));
      } catch {
        return;
      }
      const set = message.topic ? this.#listeners.get(message.topic) : undefined;
      if (!set) return;
      for (const l of set)
        l(message.type === 'update' ? { data: message.data } : { error: message.error as ApiError });
    };
    socket.onclose = () => {
      this.#socket = null;
      this.#setStatus('offline');
      if (this.#listeners.size === 0) return;
      const pause = Math.min(10_000, 1_000 * 2 ** this.#retry++);
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#setStatus('connecting');
        this.#ensure();
      }, pause);
    };
  }
}

let channel: LiveChannel | null = null;
function liveChannel(): LiveChannel {
  channel ??= new LiveChannel();
  return channel;
}

/** A topic's state: starts from what the server rendered, then follows the pushes. */
export function useLive<T>(
  topic: string,
  initial: T,
  initialError: ApiError | null = null,
): { data: T; error: ApiError | null } {
  const [data, setData] = useState<T>(initial);
  const [error, setError] = useState<ApiError | null>(initialError);
  useEffect(
    () =>
      liveChannel().follow(topic, (m) => {
        if (m.error) setError(m.error);
        else {
          setError(null);
          setData(m.data as T);
        }
      }),
    [topic],
  );
  return { data, error };
}

/** Whether live updates are flowing, for the page's status line. */
export function useLiveStatus(): LiveStatus {
  const [status, setStatus] = useState<LiveStatus>('connecting');
  useEffect(() => liveChannel().onStatus(setStatus), []);
  return status;
}
