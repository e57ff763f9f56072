/**
 * The Web Worker that is one sandbox of the browser worker. Its script is our evaluator's own
 * in-sandbox environment (apps/worker/src/evaluator/prelude: KVIN v9 + v8, then the prelude), framed
 * by a small host: the prelude hands lines to `__dcpEmuSend(kind, line)` and exposes `dispatch(json)`
 * / `tick()`; the host turns Web Worker messages into `dispatch` calls, drives the prelude's virtual
 * timers with the worker's real ones, and posts the prelude's `MSG:`/`DIE:` lines back. Each
 * message either way is one line of DCP's evaluator line protocol (dcp-worker-protocol.md §5.2),
 * so the page's supervisor talks to it with the same `LineSandbox` as the Node worker talks to a TCP
 * evaluator.
 *
 * The page starts it from a `data:` URL, so the worker runs in an opaque origin: a work function
 * gets no portal cookies and cannot read same-origin responses. On top of that the host hides the
 * worker's network, storage and messaging globals once the prelude has defined its own.
 */

/** Runs first: captures what the host needs before any sandbox code can replace it. */
export const SANDBOX_HOST_HEAD = `(function dcpEmuWebWorkerHost(scope) {
  'use strict';
  var post = scope.postMessage.bind(scope);
  var setTimer = scope.setTimeout.bind(scope);
  var clearTimer = scope.clearTimeout.bind(scope);
  var closeWorker = scope.close.bind(scope);
  var listen = scope.addEventListener.bind(scope);
  var JSONparse = JSON.parse;
  var JSONstringify = JSON.stringify;
  var entry = null;
  var early = [];
  var ended = false;
  var wake = null;
  var wakeAt = Infinity;

  function end(line) {
    if (ended) return;
    ended = true;
    if (wake !== null) clearTimer(wake);
    post(line);
    closeWorker();
  }

  function schedule(next) {
    if (ended || typeof next !== 'number' || !(next >= 0) || next === Infinity) return;
    var at = Date.now() + Math.min(next, 2147000000);
    if (wake !== null && at >= wakeAt) return;
    if (wake !== null) clearTimer(wake);
    wakeAt = at;
    wake = setTimer(function () {
      wake = null;
      wakeAt = Infinity;
      call(entry.tick);
    }, next);
  }

  function call(fn, arg) {
    if (ended || !entry) return;
    var next;
    try {
      next = fn(arg);
    } catch (e) {
      end('DIE: EUNCAUGHT: the work function broke its sandbox: ' + String(e && e.message));
      return;
    }
    schedule(next);
  }

  function fromSandbox(kind, line) {
    if (ended) return;
    switch (kind) {
      case 'slice-start':
        return;
      case 'wake':
        schedule(Number(line));
        return;
      case 'fatal':
        end('DIE: EUNCAUGHT: the work function broke its sandbox: ' + String(line));
        return;
      case 'die':
        end(String(line).indexOf('DIE:') === 0 ? line : 'DIE: ' + line);
        return;
      default:
        post(String(line));
    }
  }

  function fromSupervisor(line) {
    if (ended || typeof line !== 'string') return;
    var envelope;
    try {
      envelope = JSONparse(line);
    } catch (e) {
      post('MSG:' + JSONstringify({ type: 'result', step: 'parseMessage', success: false, origin: 'parseMessage',
        exception: { name: 'SyntaxError', message: String(e && e.message), stack: '' } }));
      return;
    }
    if (!envelope || typeof envelope !== 'object') return;
    if (envelope.type === 'die') {
      end('DIE: ' + new Date().toString());
      return;
    }
    if (envelope.type !== 'workerMessage') return;
    var json = JSONstringify(envelope.message);
    if (!entry) early.push(json);
    else call(entry.dispatch, json);
  }

  Object.defineProperty(scope, '__dcpEmuSend', {
    value: function (kind, line) {
      fromSandbox(String(kind), String(line));
    },
    configurable: true,
    writable: true,
  });
  listen('message', function (event) {
    fromSupervisor(event.data);
  });

  Object.defineProperty(scope, '__dcpEmuHostReady', {
    configurable: true,
    value: function () {
      var e = scope.__dcpEmuEntry;
      delete scope.__dcpEmuEntry;
      delete scope.__dcpEmuHostReady;
      if (!e || typeof e.dispatch !== 'function' || typeof e.tick !== 'function') {
        end('DIE: ESANDBOX: the sandbox environment did not load');
        return;
      }
      entry = e;
      var hidden = ['XMLHttpRequest', 'WebSocket', 'WebTransport', 'EventSource', 'indexedDB', 'caches',
        'Worker', 'SharedWorker', 'BroadcastChannel', 'MessageChannel', 'close', 'onmessage', 'onmessageerror',
        'cookieStore', 'storageManager', 'FileReaderSync', 'requestAnimationFrame'];
      for (var i = 0; i < hidden.length; i++) {
        try {
          Object.defineProperty(scope, hidden[i], { value: undefined, writable: false, configurable: false });
        } catch (_) {
          /* not on this scope */
        }
      }
      var pending = early;
      early = [];
      for (var j = 0; j < pending.length; j++) call(entry.dispatch, pending[j]);
    },
  });
})(self);
`;

/** Runs last: hands the prelude's entry points to the host. */
export const SANDBOX_HOST_TAIL = 'self.__dcpEmuHostReady();\n';

export interface SandboxScriptParts {
  /** kvin 9 (`kvin/kvin.js`) */
  kvinV9: string;
  /** kvin 1.2.17 (`kvin-v8/kvin.js`), what dcp-worker 3.3.19 speaks */
  kvinV8: string;
  /** apps/worker/src/evaluator/prelude/sandbox-prelude.js */
  prelude: string;
  /** sandbox-polyfills.js: only where the scope lacks URL/TextEncoder/atob (never in browsers) */
  polyfills?: string;
}

/**
 * The whole worker script, in the order our evaluator boots an isolate (`evaluator/sandbox.ts`):
 * host head, [polyfills], KVIN v9 (stashed as `__dcpEmuKvin9`), KVIN v8, prelude, host tail.
 */
export function assembleSandboxScript(parts: SandboxScriptParts): string {
  return [
    SANDBOX_HOST_HEAD,
    parts.polyfills ?? '',
    parts.kvinV9,
    ';globalThis.__dcpEmuKvin9 = globalThis.KVIN; delete globalThis.KVIN; delete globalThis.module;\n',
    parts.kvinV8,
    ';delete globalThis.module;\n',
    parts.prelude,
    `;\n${SANDBOX_HOST_TAIL}`,
  ].join('\n');
}
