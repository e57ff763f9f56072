/**
 * dcp-emu sandbox prelude: DCP's in-sandbox environment, evaluated inside a fresh V8 isolate after
 * sandbox-polyfills.js and the two KVIN builds (v9 stashed as __dcpEmuKvin9, v8 as KVIN).
 *
 * The host hands in exactly one function, `__dcpEmuSend(kind, line)` (an isolated-vm Callback that
 * copies its two string arguments), and calls two entry points, `dispatch(json)` and `tick()`,
 * with strings. Nothing else crosses the isolate boundary: messages are KVIN-(un)marshalled here,
 * in the sandbox's own realm, so no host object ever reaches a work function and no sandbox
 * object ever reaches the host.
 *
 * `kind` tells the host what a line means for its bookkeeping:
 *   'msg'         a MSG: line with no special meaning to the host
 *   'progress'    a ring-3 progress message (resets the host's no-progress watchdog)
 *   'slice-start' no line; a slice started (arms the watchdogs)
 *   'slice-end'   a ring-3 complete/workError/sandboxError line (disarms them)
 *   'die'         a DIE: line; the sandbox asked to be closed (work.reject)
 *   'wake'        no line but a delay in ms: a timer became due earlier than last reported
 *   'fatal'       no line but a reason: the sandbox cannot report any more (host kills it)
 *   'enomem'      no line but a reason: the sandbox went over its WebAssembly memory budget
 *   'wasm'        no line but the bytes of WebAssembly memory charged to the sandbox so far
 *
 * dispatch() and tick() return the delay in ms until the next virtual timer is due, or -1.
 */
(function dcpEmuPrelude(global) {
  // biome-ignore lint/suspicious/noRedundantUseStrict: a script run in the isolate, not a module; strict mode hides these frames from CallSites and fn.caller
  'use strict';
  const send = global.__dcpEmuSend;
  const kvinV9 = global.__dcpEmuKvin9;
  const kvinV8 = global.KVIN;
  delete global.__dcpEmuSend;
  delete global.__dcpEmuKvin9;
  delete global.KVIN;
  const wasmLimits = JSON.parse(typeof global.__dcpEmuLimits === 'string' ? global.__dcpEmuLimits : '{}');
  delete global.__dcpEmuLimits;
  wasmLimits.maxPages = Number(wasmLimits.maxPages) > 0 ? Number(wasmLimits.maxPages) : 4096;
  wasmLimits.budgetBytes =
    Number(wasmLimits.budgetBytes) > 0 ? Number(wasmLimits.budgetBytes) : 512 * 1024 * 1024;

  /* Intrinsics captured before any job code runs, so tampering with prototypes later cannot
   * change how this prelude talks to the host. */
  const JSONparse = JSON.parse;
  const JSONstringify = JSON.stringify;
  const freeze = Object.freeze;
  const defineProperty = Object.defineProperty;
  const keys = Object.keys;
  const hasOwn = Object.prototype.hasOwnProperty;
  const apply = Reflect.apply;
  const dateNow = Date.now;
  const isArray = Array.isArray;
  const mathRandom = Math.random;
  const mathMax = Math.max;
  const mathMin = Math.min;
  const mathFloor = Math.floor;
  const indirectEval = global.eval;
  const PromiseCtor = Promise;
  const ErrorCtor = Error;
  const StringCtor = String;
  const call = (fn, thisArg, ...args) => apply(fn, thisArg, args);
  const own = (o, k) => o !== null && typeof o === 'object' && call(hasOwn, o, k);

  /* ---- hardening: stack-trace CallSites and WebAssembly memory ------------------------------ */
  /*
   * This whole prelude (and KVIN, and the polyfills) runs in strict mode: V8 then answers
   * `getFunction()`/`getThis()` of its frames, and of every frame below them, with undefined, and
   * `fn.caller` of a job function called from here with null. On top of that the job's
   * `Error.prepareStackTrace` only ever sees CallSite stand-ins without getFunction/getThis and
   * without the prelude's own frames.
   */
  const callSiteMethods = [
    'getTypeName',
    'getFunctionName',
    'getMethodName',
    'getFileName',
    'getLineNumber',
    'getColumnNumber',
    'getEvalOrigin',
    'isToplevel',
    'isEval',
    'isNative',
    'isConstructor',
    'isAsync',
    'isPromiseAll',
    'getPromiseIndex',
    'getScriptNameOrSourceURL',
    'getScriptHash',
    'getEnclosingColumnNumber',
    'getEnclosingLineNumber',
    'getPosition',
    'toString',
  ];
  const arrayMap = Array.prototype.map;
  const arrayFilter = Array.prototype.filter;
  const stringStartsWith = String.prototype.startsWith;
  function safeCallSite(site) {
    const out = { getFunction: () => undefined, getThis: () => undefined };
    for (const name of callSiteMethods) {
      const method = site[name];
      out[name] = typeof method === 'function' ? () => apply(method, site, []) : () => undefined;
    }
    return freeze(out);
  }
  function ownFrame(site) {
    try {
      const file = apply(site.getFileName, site, []);
      return typeof file === 'string' && apply(stringStartsWith, file, ['dcp-emu:']);
    } catch {
      return false;
    }
  }
  /* the job's function → the wrapper V8 gets (and the job reads back), and the way back */
  const wrappers = new WeakMap();
  const unwrap = new WeakMap();
  const weakGet0 = WeakMap.prototype.get;
  const weakSet0 = WeakMap.prototype.set;
  let jobPrepareStackTrace;
  function wrapperOf(fn) {
    let w = apply(weakGet0, wrappers, [fn]);
    if (!w) {
      w = function prepareStackTrace(error, sites) {
        const visible = apply(arrayFilter, sites, [(s) => !ownFrame(s)]);
        return apply(fn, ErrorCtor, [error, apply(arrayMap, visible, [safeCallSite])]);
      };
      apply(weakSet0, wrappers, [fn, w]);
      apply(weakSet0, unwrap, [w, fn]);
    }
    return w;
  }
  defineProperty(ErrorCtor, 'prepareStackTrace', {
    get: () =>
      typeof jobPrepareStackTrace === 'function' ? wrapperOf(jobPrepareStackTrace) : jobPrepareStackTrace,
    set: (fn) => {
      jobPrepareStackTrace = (typeof fn === 'function' && apply(weakGet0, unwrap, [fn])) || fn;
    },
    enumerable: false,
    configurable: false,
  });

  /*
   * WebAssembly memories live outside the isolate's heap limit, so every memory a sandbox creates
   * (new WebAssembly.Memory, or defined by a module it instantiates) is charged up front at its
   * maximum size (its declared maximum, else the process-wide page cap): wasm code can grow a
   * memory only up to that maximum, so the charges bound what the sandbox can ever touch. Above
   * the sandbox's budget the slice ends with ENOMEM. Modules are known only through these
   * wrappers (their bytes are parsed here), so an instance of an unknown module is refused.
   */
  const Wasm = global.WebAssembly;
  if (Wasm) {
    const PAGE = 65536;
    const OrigMemory = Wasm.Memory;
    const OrigModule = Wasm.Module;
    const OrigInstance = Wasm.Instance;
    const origCompile = Wasm.compile;
    const CompileError = Wasm.CompileError;
    const NumberCtor = Number;
    const construct = Reflect.construct;
    const isView = ArrayBuffer.isView;
    const U8 = Uint8Array;
    const typedBuffer = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(U8.prototype), 'buffer').get;
    const typedOffset = Object.getOwnPropertyDescriptor(
      Object.getPrototypeOf(U8.prototype),
      'byteOffset',
    ).get;
    const typedLength = Object.getOwnPropertyDescriptor(
      Object.getPrototypeOf(U8.prototype),
      'byteLength',
    ).get;
    const dvBuffer = Object.getOwnPropertyDescriptor(DataView.prototype, 'buffer').get;
    const dvOffset = Object.getOwnPropertyDescriptor(DataView.prototype, 'byteOffset').get;
    const dvLength = Object.getOwnPropertyDescriptor(DataView.prototype, 'byteLength').get;
    const u8Slice = U8.prototype.slice;
    const weakGet = WeakMap.prototype.get;
    const weakSet = WeakMap.prototype.set;
    const modulePages = new WeakMap();
    let charged = 0;
    const Registry = global.FinalizationRegistry;
    const registryRegister = Registry ? Registry.prototype.register : undefined;
    const refunds = Registry
      ? new Registry((pages) => {
          charged = mathMax(0, charged - pages);
          send('wasm', StringCtor(charged * PAGE));
        })
      : undefined;

    const budgetPages = mathFloor(wasmLimits.budgetBytes / PAGE);
    const capPages = wasmLimits.maxPages;
    const charge = (pages, what) => {
      if (pages <= 0) return;
      if (charged + pages > budgetPages) {
        const message = `WebAssembly memory over the sandbox's budget of ${mathFloor(budgetPages / 16)} MiB (${what} would bring it to ${mathFloor((charged + pages) / 16)} MiB)`;
        send('enomem', message);
        throw new RangeError(message);
      }
      charged += pages;
      send('wasm', StringCtor(charged * PAGE));
    };
    const limitPages = (max) => (typeof max === 'number' && max >= 0 && max < capPages ? max : capPages);

    /** A private copy of the module bytes (the caller cannot change them after we looked). */
    const copyBytes = (source) => {
      let view;
      if (isView(source)) {
        try {
          view = new U8(
            apply(typedBuffer, source, []),
            apply(typedOffset, source, []),
            apply(typedLength, source, []),
          );
        } catch {
          view = new U8(
            apply(dvBuffer, source, []),
            apply(dvOffset, source, []),
            apply(dvLength, source, []),
          );
        }
      } else view = new U8(source);
      return apply(u8Slice, view, []);
    };
    /** Pages charged per instance of a module: the maxima of the memories it defines (not imports). */
    const definedMemoryPages = (bytes) => {
      let pos = 8;
      const leb = () => {
        let result = 0;
        let scale = 1;
        for (let i = 0; i < 10; i++) {
          if (pos >= bytes.length) throw new CompileError('truncated module');
          const b = bytes[pos++];
          result += (b & 0x7f) * scale;
          scale *= 128;
          if ((b & 0x80) === 0) return result;
        }
        throw new CompileError('bad LEB128');
      };
      let pages = 0;
      while (pos < bytes.length) {
        const id = bytes[pos++];
        const size = leb();
        const end = pos + size;
        if (id === 5) {
          const count = leb();
          for (let i = 0; i < count; i++) {
            const flags = leb();
            leb();
            const hasMax = (flags & 1) === 1;
            const max = hasMax ? leb() : undefined;
            pages += (flags & 4) === 4 ? capPages : limitPages(max);
          }
        }
        pos = end;
      }
      return pages;
    };
    const known = (module) => {
      const pages = apply(weakGet, modulePages, [module]);
      if (pages === undefined) throw new TypeError('WebAssembly.Instance: unknown module');
      return pages;
    };
    const remember = (module, pages) => {
      apply(weakSet, modulePages, [module, pages]);
      return module;
    };

    /* charge first; give it back when V8 refuses to build the thing */
    const charged_ = (pages, what, build) => {
      charge(pages, what);
      let made;
      try {
        made = build();
      } catch (e) {
        charged = mathMax(0, charged - pages);
        throw e;
      }
      if (refunds && pages > 0) apply(registryRegister, refunds, [made, pages]);
      return made;
    };
    const descriptorKeys = freeze(['initial', 'minimum', 'maximum', 'shared', 'index', 'address']);
    function Memory(descriptor) {
      if (new.target === undefined) throw new TypeError("WebAssembly.Memory must be invoked with 'new'");
      if (descriptor === null || typeof descriptor !== 'object')
        throw new TypeError('WebAssembly.Memory(): Argument 0 must be a memory descriptor');
      /* every field read once, so a getter cannot show us one maximum and V8 another */
      const clean = {};
      for (let i = 0; i < descriptorKeys.length; i++) {
        const k = descriptorKeys[i];
        const v = descriptor[k];
        if (v !== undefined) clean[k] = v;
      }
      const max = clean.maximum === undefined ? undefined : NumberCtor(clean.maximum);
      if (max !== undefined) clean.maximum = max;
      const target = new.target;
      return charged_(limitPages(max), 'a new WebAssembly.Memory', () =>
        construct(OrigMemory, [clean], target),
      );
    }
    function Module(bytes) {
      if (new.target === undefined) throw new TypeError("WebAssembly.Module must be invoked with 'new'");
      const copy = copyBytes(bytes);
      const module = construct(OrigModule, [copy], new.target);
      return remember(module, definedMemoryPages(copy));
    }
    function Instance(module, imports) {
      if (new.target === undefined) throw new TypeError("WebAssembly.Instance must be invoked with 'new'");
      const target = new.target;
      return charged_(known(module), 'a new WebAssembly.Instance', () =>
        construct(OrigInstance, [module, imports], target),
      );
    }
    const compile = async function compile(bytes) {
      const copy = copyBytes(bytes);
      const module = await apply(origCompile, Wasm, [copy]);
      return remember(module, definedMemoryPages(copy));
    };
    const instantiate = async function instantiate(source, imports) {
      if (source instanceof OrigModule) return new Instance(source, imports);
      const module = await compile(source);
      return { module, instance: new Instance(module, imports) };
    };
    for (const [Wrapper, Orig] of [
      [Memory, OrigMemory],
      [Module, OrigModule],
      [Instance, OrigInstance],
    ]) {
      for (const k of Reflect.ownKeys(Orig)) {
        if (k === 'prototype' || k === 'length' || k === 'name') continue;
        defineProperty(Wrapper, k, Object.getOwnPropertyDescriptor(Orig, k));
      }
      defineProperty(Wrapper, 'prototype', { value: Orig.prototype, writable: false, configurable: false });
      defineProperty(Orig.prototype, 'constructor', { value: Wrapper, writable: true, configurable: true });
    }
    const replace = { Memory, Module, Instance, compile, instantiate };
    for (const k of keys(replace))
      defineProperty(Wasm, k, { value: replace[k], writable: false, configurable: false, enumerable: false });
    for (const k of ['compileStreaming', 'instantiateStreaming']) if (k in Wasm) delete Wasm[k];
    Object.preventExtensions(Wasm);
  }

  let peerKvin = kvinV8;
  let ring = 0;

  function emit(kind, line) {
    send(kind, line);
  }

  function post(ringSource, value, kind = 'msg') {
    const marshalled = peerKvin.marshal({ ringSource, value });
    emit(kind, `MSG:${JSONstringify({ type: 'workerMessage', message: marshalled })}`);
  }

  function ack(ok, origin, error) {
    const out = { type: 'result', step: origin || 'parseMessage', success: ok, origin };
    if (error) {
      out.exception = {
        name: StringCtor(error.name),
        message: StringCtor(error.message),
        stack: StringCtor(error.stack),
      };
    }
    emit('msg', `MSG:${JSONstringify(out)}`);
  }

  function errorPayload(e) {
    if (e !== null && typeof e === 'object') {
      const out = { name: 'Error', message: '' };
      for (const k of ['name', 'message', 'stack', 'code', 'lineNumber', 'columnNumber']) {
        try {
          if (e[k] !== undefined) out[k] = typeof e[k] === 'number' ? e[k] : StringCtor(e[k]);
        } catch {
          /* hostile getter: leave the property out */
        }
      }
      return out;
    }
    return { name: 'Error', message: StringCtor(e) };
  }

  /* ---- virtual event loop ------------------------------------------------------------------ */
  const timers = new Map();
  let lastTimerId = 0;
  let timerSeq = 0;
  let timersLocked = true; // unlocked while a slice runs and while the sandbox is being set up
  const _lockExempt = 0;

  function addTimer(fn, delay, args, repeat, internal) {
    if (typeof fn !== 'function') {
      const code = StringCtor(fn);
      fn = () => indirectEval(code);
    }
    let ms = Number(delay);
    if (!(ms >= 0)) ms = 0;
    const id = ++lastTimerId;
    const due = dateNow() + ms;
    timers.set(id, { fn, args, due, seq: ++timerSeq, repeat: repeat ? mathMax(ms, 1) : 0, internal });
    /* A timer made from a microtask (after dispatch/tick returned its delay) must wake the host.
     * Bounded per host call, so a job making ever-earlier timers cannot flood the host; past the
     * bound only a wake for "now" is sent, after which no later timer can be earlier. */
    if ((internal || !timersLocked) && due < reportedDue) {
      const now = dateNow();
      if (wakesSent < 4 || (due <= now + 1 && reportedDue > now + 1)) {
        wakesSent++;
        reportedDue = due;
        emit('wake', StringCtor(ms));
      }
    }
    return id;
  }

  function nextTimer() {
    let best = null;
    for (const [id, t] of timers) {
      if (timersLocked && !t.internal) continue;
      if (best === null || t.due < best[1].due || (t.due === best[1].due && t.seq < best[1].seq))
        best = [id, t];
    }
    return best;
  }

  let reportedDue = Number.POSITIVE_INFINITY;
  let wakesSent = 0;
  function nextDelay() {
    wakesSent = 0;
    const n = nextTimer();
    if (n === null) {
      reportedDue = Number.POSITIVE_INFINITY;
      return -1;
    }
    reportedDue = n[1].due;
    return mathMax(0, n[1].due - dateNow());
  }

  function clearJobTimers() {
    for (const [id, t] of timers) if (!t.internal) timers.delete(id);
  }

  function tick() {
    const n = nextTimer();
    if (n !== null && n[1].due <= dateNow()) {
      const [id, t] = n;
      if (t.repeat) {
        t.due = dateNow() + t.repeat;
        t.seq = ++timerSeq;
      } else timers.delete(id);
      const started = dateNow();
      try {
        apply(t.fn, global, t.args || []);
      } catch (e) {
        uncaught(e);
      } finally {
        if (slice) slice.cpu += dateNow() - started;
      }
    }
    return nextDelay();
  }

  const jobTimers = {
    setTimeout(fn, delay, ...args) {
      return addTimer(fn, delay, args, false, false);
    },
    setInterval(fn, delay, ...args) {
      return addTimer(fn, delay, args, true, false);
    },
    setImmediate(fn, ...args) {
      return addTimer(fn, 0, args, false, false);
    },
    clearTimeout(id) {
      if (!timers.get(id)?.internal) timers.delete(id);
    },
    clearInterval(id) {
      if (!timers.get(id)?.internal) timers.delete(id);
    },
    clearImmediate(id) {
      if (!timers.get(id)?.internal) timers.delete(id);
    },
    queueMicrotask(fn) {
      if (typeof fn !== 'function') throw new TypeError('queueMicrotask: argument must be a function');
      PromiseCtor.resolve().then(() => fn());
    },
  };

  function internalTimeout(fn, delay = 0) {
    return addTimer(fn, delay, [], false, true);
  }

  /* ---- message listeners (supervisor → sandbox) ------------------------------------------- */
  const userListeners = [];

  function dispatch(json) {
    let raw;
    try {
      raw = JSONparse(json);
    } catch (e) {
      ack(false, 'workerMessage', e);
      return nextDelay();
    }
    let message;
    try {
      if (raw && typeof raw === 'object' && own(raw, '_serializeVerId')) {
        peerKvin = raw._serializeVerId === 'v8' ? kvinV8 : kvinV9;
        message = (raw._serializeVerId === 'v8' ? kvinV8 : kvinV9).unmarshal(raw);
      } else message = raw;
      if (message !== null && typeof message === 'object') freeze(message);
    } catch (e) {
      ack(false, 'workerMessage', e);
      return nextDelay();
    }
    try {
      handle(message);
      ack(true, 'workerMessage');
    } catch (e) {
      ack(false, 'workerMessage', e);
    }
    for (const l of userListeners.slice()) {
      try {
        l(message);
      } catch (e) {
        uncaught(e);
      }
    }
    return nextDelay();
  }

  function handle(m) {
    if (m === null || typeof m !== 'object') return;
    switch (m.request) {
      case 'describe':
        post(2, { capabilities: capabilities(), worktimes: worktimes(), request: 'describe' });
        break;
      case 'applyRequirements':
        applyRequirements(m);
        break;
      case 'assign':
        assign(m);
        break;
      case 'moduleGroup':
        moduleGroup(m);
        break;
      case 'moduleGroupError':
        moduleGroupError(m);
        break;
      case 'resetState':
        resetState();
        break;
      case 'main':
        main(m.data);
        break;
      case 'fetchResponse':
      case 'fetchError':
        fetchReply(m);
        break;
      case 'eval':
        evalRequest(m);
        break;
      default:
        break;
    }
  }

  /* ---- describe / requirements ---------------------------------------------------------------- */
  function worktimes() {
    // `version`: what dcp-client 5.x's supervisor matches a job's worktime range against (its own
    // sandbox reports `{name, version}`); `versions` for readers of the older shape
    return [{ name: 'map-basic', version: '1.0.0', versions: ['1.0.0'] }];
  }

  function capabilities() {
    let fdlibm = true;
    /* fdlibm-exact exp(): V8 ships fdlibm's ieee754 port, so these reproduce bit for bit */
    const probes = [
      [7.330382858376183, 1525.9658889887482],
      [9.42477796076938, 12391.647807916692],
      [14.66076571675237, 2328571.8943572324],
      [16.755160819145566, 18909231.863243133],
      [7.33038285837618, 1525.9658889887442],
    ];
    for (const [x, y] of probes) if (Math.exp(x) !== y) fdlibm = false;
    let useStrict = true;
    try {
      if (indirectEval('"use strict"; (function (a) { a = a + 1; return arguments[0]; })')(1) !== 1)
        useStrict = false;
    } catch {
      useStrict = false;
    }
    return {
      engine: { es7: false, spidermonkey: false },
      environment: { webgpu: false, offscreenCanvas: false, fdlibm },
      browser: {},
      details: {
        offscreenCanvas: {
          bigTexture4096: false,
          bigTexture8192: false,
          bigTexture16384: false,
          bigTexture32768: false,
        },
      },
      discrete: true,
      useStrict,
    };
  }

  let _requirements = null;
  function applyRequirements(m) {
    _requirements = m.requirements || {};
    if (ring < 1) ring = 1;
    delete global.worktimes;
    post(1, { request: 'applyRequirementsDone' });
  }

  /* ---- modules (CommonJS Modules/2.0 "module.declare" form, as BravoJS) -------------------- */
  /*
   * A module group's files are evaluated as DCP's sandbox does: each one calls
   * `module.declare(dependencies, factory)`; the dependencies are fetched (`dependency` →
   * `moduleGroup`) before the job is assigned, and a factory runs on its module's first require().
   * Our package manager serves published CommonJS files already wrapped that way; a plain CommonJS
   * file (`exports.f = …`, `require('./x')`) arriving from elsewhere is wrapped here the same way,
   * its string-literal requires of relative and package modules becoming its dependencies.
   */
  const declarations = new Map(); // id -> { deps, factory }
  const instances = new Map(); // id -> module
  const provideWaits = new Map(); // dependency request id -> { resolve, reject }

  /** the source with comments and string contents blanked, for scanning it */
  function codeOnly(source) {
    const out = source.split('');
    const blank = (from, to) => {
      for (let k = from; k < to && k < out.length; k++) if (out[k] !== '\n') out[k] = ' ';
    };
    let i = 0;
    while (i < source.length) {
      const c = source[i];
      const next = source[i + 1];
      if (c === '/' && (next === '/' || next === '*')) {
        const end = next === '/' ? source.indexOf('\n', i) : source.indexOf('*/', i + 2);
        const stop = end === -1 ? source.length : next === '/' ? end : end + 2;
        blank(i, stop);
        i = stop;
      } else if (c === '"' || c === "'" || c === '`') {
        let k = i + 1;
        while (k < source.length && source[k] !== c) {
          if (source[k] === '\\') k++;
          else if (c !== '`' && source[k] === '\n') break;
          k++;
        }
        blank(i + 1, k);
        i = k + 1;
      } else i++;
    }
    return out.join('');
  }

  function isModuleDeclare(code) {
    return /(^|[^.\w$])module\s*\.\s*declare\s*\(/.test(code);
  }

  /** string-literal requires of relative (`./x`) and package (`pkg/module`) modules */
  function staticRequires(source, code) {
    const found = [];
    const re = /(^|[^.\w$])require\s*\(\s*(['"])/g;
    for (let m = re.exec(code); m; m = re.exec(code)) {
      const start = m.index + m[0].length;
      const end = source.indexOf(m[2], start);
      if (end === -1 || !/^\s*\)/.test(code.slice(end + 1))) continue;
      const id = source.slice(start, end);
      if (!id || /[\\\n]/.test(id)) continue;
      const relative = id.startsWith('./') || id.startsWith('../');
      if (!relative && !/^[\w.@-]+\/./.test(id)) continue;
      if (!found.includes(id)) found.push(id);
    }
    return found;
  }

  function resolveId(base, id) {
    id = StringCtor(id).replace(/\.js$/, '');
    if (id.startsWith('/')) id = id.slice(1);
    if (!id.startsWith('./') && !id.startsWith('../')) return id;
    const parts = base.split('/');
    parts.pop();
    for (const seg of id.split('/')) {
      if (seg === '..') parts.pop();
      else if (seg !== '.') parts.push(seg);
    }
    return parts.join('/');
  }

  function makeRequire(baseId) {
    const req = function require(id) {
      const full = resolveId(baseId, id);
      return instantiate(full, id);
    };
    req.paths = [];
    req.id = (id) => resolveId(baseId, id);
    return req;
  }

  function instantiate(id, asked) {
    const existing = instances.get(id);
    if (existing) return existing.exports;
    const decl = declarations.get(id);
    if (!decl)
      throw new ErrorCtor(
        `Module '${asked === undefined ? id : asked}' is not available in this sandbox (declare it with job.requires)`,
      );
    const mod = { id, exports: {}, paths: [], dependencies: decl.deps };
    instances.set(id, mod);
    try {
      const ret = decl.factory(makeRequire(id), mod.exports, mod);
      if (ret !== undefined && ret !== mod.exports) mod.exports = ret;
    } catch (e) {
      instances.delete(id);
      throw e;
    }
    return mod.exports;
  }

  function missingDeps(ids, base) {
    const out = [];
    for (const dep of ids) {
      const id = resolveId(base, typeof dep === 'string' ? dep : StringCtor(dep));
      if (!declarations.has(id) && !out.includes(id)) out.push(id);
    }
    return out;
  }

  function provide(ids, base) {
    let missing = missingDeps(ids, base);
    return (async () => {
      while (missing.length) {
        const id = dateNow() + mathRandom();
        const group = await new PromiseCtor((resolve, reject) => {
          provideWaits.set(id, { resolve, reject });
          post(2, { request: 'dependency', data: missing, id });
        });
        const next = [];
        for (const [modId, decl] of group) {
          for (const d of missingDeps(decl.deps, modId)) if (!next.includes(d) && d !== modId) next.push(d);
        }
        const stillMissing = missing.filter((id2) => !declarations.has(id2));
        if (stillMissing.length) throw new ErrorCtor(`Module(s) not delivered: ${stillMissing.join(', ')}`);
        missing = next.filter((d) => !declarations.has(d));
      }
    })();
  }

  /** Evaluate one module file; a plain CommonJS file is wrapped as its declaration. */
  function loadModuleFile(moduleId, source, record) {
    const code = codeOnly(source);
    if (isModuleDeclare(code)) {
      global.module = {
        declare(deps, factory) {
          if (typeof deps === 'function') {
            factory = deps;
            deps = [];
          }
          if (typeof factory !== 'function')
            throw new TypeError(`module.declare in ${moduleId}: the factory is not a function`);
          record(moduleId, { deps: isArray(deps) ? deps : [], factory });
        },
      };
      indirectEval(`${source}\n//# sourceURL=${moduleId}.js`);
      return;
    }
    const body = source.startsWith('#!') ? `//${source.slice(2)}` : source;
    const factory = indirectEval(
      `(function (require, exports, module) {\n${body}\n})\n//# sourceURL=${moduleId}.js`,
    );
    record(moduleId, { deps: staticRequires(body, codeOnly(body)), factory });
  }

  function moduleGroup(m) {
    const wait = provideWaits.get(m.id);
    const declared = [];
    const saved = global.module;
    const record = (moduleId, decl) => {
      declarations.set(moduleId, decl);
      declared.push([moduleId, decl]);
    };
    try {
      for (const pkg of keys(m.data || {})) {
        for (const file of keys(m.data[pkg])) {
          const moduleId = `${pkg}/${file}`.replace(/\.js$/, '');
          try {
            loadModuleFile(moduleId, StringCtor(m.data[pkg][file]), record);
          } catch (e) {
            if (e !== null && typeof e === 'object')
              try {
                e.message = `${e.message} (loading module ${moduleId})`;
              } catch {
                /* frozen error: keep its message */
              }
            throw e;
          }
        }
      }
    } catch (e) {
      global.module = saved;
      if (wait) {
        provideWaits.delete(m.id);
        wait.reject(e);
        return;
      }
      throw e;
    }
    global.module = saved;
    if (wait) {
      provideWaits.delete(m.id);
      wait.resolve(declared);
    }
  }

  function moduleGroupError(m) {
    const wait = provideWaits.get(m.id);
    if (!wait) return;
    provideWaits.delete(m.id);
    wait.reject(new ErrorCtor(StringCtor(m.stack || m.error || 'module group error')));
  }

  /* ---- job assignment ------------------------------------------------------------------------- */
  let job = null;
  let sandboxConfig = {};
  const work = {};
  const jobPublic = { name: 'Ad-Hoc Job', description: 'Discreetly making the world smarter', link: '' };

  function assign(m) {
    const reject = (e) => {
      const p = errorPayload(e);
      post(2, { request: 'reject', error: p.stack || p.message });
    };
    if (job !== null) {
      reject(new ErrorCtor('Tried to assign sandbox when it was already assigned'));
      return;
    }
    job = { pending: true };
    const j = m.job || {};
    sandboxConfig = m.sandboxConfig || {};
    if (j.public && typeof j.public === 'object') {
      for (const k of keys(j.public)) jobPublic[k] = j.public[k];
    }
    timersLocked = false;
    (async () => {
      await provide(isArray(j.dependencies) ? j.dependencies : [], '');
      const worktime = j.worktime || { name: 'map-basic' };
      if (worktime.name !== 'map-basic') throw new ErrorCtor(`Unsupported worktime: ${worktime.name}`);
      const src = `(${j.workFunction})`;
      const fn = indirectEval(j.useStrict ? `"use strict"; ${src}` : src);
      if (typeof fn !== 'function') throw new TypeError('The work function is not a function');
      const mainModule = { id: 'main', exports: {}, paths: [], dependencies: j.dependencies || [] };
      mainModule.exports.job = fn;
      mainModule.exports.arguments = isArray(j.arguments) ? j.arguments : [];
      defineProperty(global, 'require', { value: makeRequire(''), writable: true, configurable: true });
      /* `module` is a non-configurable global var (KVIN's loader declares it): assign, don't define */
      global.module = { id: 'main', main: mainModule, exports: mainModule.exports, paths: [] };
      job = { fn, args: mainModule.exports.arguments, address: j.address };
      clearJobTimers();
      timersLocked = true;
      post(2, { request: 'assigned', jobAddress: j.address });
      ring = 3;
    })().catch((e) => {
      job = null;
      timersLocked = true;
      reject(e);
    });
  }

  /* ---- slices -------------------------------------------------------------------------------- */
  let slice = null;
  let lastProgress = 0;
  let lastProgressSent = 0;
  let throttled = 0;
  let indeterminate = true;
  let lastConsole = null;
  let consoleBuffer = [];

  function resetState() {
    lastProgress = 0;
    lastProgressSent = 0;
    throttled = 0;
    indeterminate = true;
    lastConsole = null;
    post(2, { request: 'resetStateDone' });
  }

  function main(datum) {
    if (job === null || job.pending) {
      post(
        3,
        { request: 'sandboxError', error: errorPayload(new ErrorCtor('main before assign')) },
        'slice-end',
      );
      return;
    }
    if (slice !== null) {
      post(
        3,
        { request: 'sandboxError', error: errorPayload(new ErrorCtor('slice already running')) },
        'slice-end',
      );
      return;
    }
    const current = { started: dateNow(), cpu: 0, done: false, rejected: false };
    slice = current;
    timersLocked = false;
    emit('slice-start', '');
    const buffered = consoleBuffer;
    consoleBuffer = [];
    for (const c of buffered) emitConsole(c.level, c.args);
    internalTimeout(() => {
      let result;
      let failed = false;
      let error;
      const t0 = dateNow();
      let p;
      try {
        p = PromiseCtor.resolve(apply(job.fn, null, [datum, ...job.args]));
      } catch (e) {
        failed = true;
        error = e;
        p = PromiseCtor.resolve();
      } finally {
        current.cpu += dateNow() - t0;
      }
      p.then(
        (v) => {
          if (!failed) result = v;
        },
        (e) => {
          failed = true;
          error = e;
        },
      ).then(() => {
        if (current.done) return;
        timersLocked = true;
        clearJobTimers();
        /* let the microtasks queued by the work function drain before reporting */
        internalTimeout(() => finishSlice(current, failed, result, error));
      });
    });
  }

  function measurement(current) {
    const total = dateNow() - current.started;
    post(3, { request: 'measurement', total, webGL: 0, webGPU: 0, CPU: mathMin(current.cpu, total) });
  }

  /* The job can break built-ins this prelude (and KVIN) rely on, e.g. Array.prototype.push; when
   * even a sandboxError cannot be sent, the host kills the sandbox (EUNCAUGHT). */
  function fatal(e) {
    let text = 'unknown';
    try {
      text = `${e?.name}: ${e?.message}`;
    } catch {
      /* hostile error object */
    }
    emit('fatal', text);
  }

  function finishSlice(current, failed, result, error) {
    try {
      finishSliceInner(current, failed, result, error);
    } catch (e) {
      fatal(e);
    }
  }

  function finishSliceInner(current, failed, result, error) {
    if (current.done) return;
    current.done = true;
    slice = null;
    try {
      dispatchSameConsole();
    } catch {
      /* console flush failure must not lose the result */
    }
    measurement(current);
    if (failed) {
      const err = new ErrorCtor('initial state');
      const p = errorPayload(error);
      for (const k of keys(p)) err[k] = p[k];
      post(3, { request: 'workError', error: err }, 'slice-end');
      return;
    }
    try {
      post(3, { request: 'complete', result }, 'slice-end');
    } catch (e) {
      post(3, { request: 'sandboxError', error: errorPayload(e) }, 'slice-end');
    }
  }

  function uncaught(e) {
    if (slice === null) return;
    const current = slice;
    timersLocked = true;
    clearJobTimers();
    internalTimeout(() => finishSlice(current, true, undefined, e));
  }

  /* ---- progress / console / work ------------------------------------------------------------ */
  function progress(value) {
    let pct;
    let isIndeterminate = false;
    if (value === undefined) {
      pct = lastProgress || 0;
      if (lastProgress === 0) isIndeterminate = true;
    } else {
      pct = Number.parseFloat(value);
      if (Number.isNaN(pct)) isIndeterminate = true;
      else if (!(typeof value === 'string' && value.endsWith('%'))) pct *= 100;
    }
    if (pct < 0 || pct > 100) isIndeterminate = true;
    else if (pct < lastProgress) {
      pct = lastProgress;
      isIndeterminate = true;
    }
    if (!Number.isNaN(pct) && pct >= 0 && pct <= 100) lastProgress = pct;
    indeterminate = indeterminate && isIndeterminate;
    const throttleMs = ((sandboxConfig && Number(sandboxConfig.progressThrottle)) || 0.1) * 1000;
    const now = dateNow();
    if (now - lastProgressSent >= throttleMs) {
      lastProgressSent = now;
      let raw = value;
      if (raw !== undefined && typeof raw !== 'number' && typeof raw !== 'string') raw = StringCtor(raw);
      post(
        3,
        {
          request: 'progress',
          progress: lastProgress,
          value: raw,
          indeterminate: indeterminate ? 1 : 0,
          throttledReports: throttled,
        },
        'progress',
      );
      throttled = 0;
      indeterminate = true;
    } else throttled++;
    dispatchSameConsole();
    return true;
  }

  function sameArgs(a, b) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  function postConsole(payload) {
    try {
      post(3, { request: 'console', payload });
    } catch {
      const safe = { level: payload.level, same: payload.same };
      if (payload.message) safe.message = payload.message.map((x) => StringCtor(x));
      post(3, { request: 'console', payload: safe });
    }
  }

  function emitConsole(level, args) {
    if (lastConsole !== null && lastConsole.level === level && sameArgs(lastConsole.message, args)) {
      lastConsole.same++;
      return;
    }
    dispatchSameConsole();
    lastConsole = { level, message: args, same: 1 };
    postConsole({ level, message: args, same: 1 });
  }

  function dispatchSameConsole() {
    if (lastConsole === null || !(lastConsole.same > 1)) return;
    const { level, same } = lastConsole;
    lastConsole = null;
    postConsole({ level, same });
  }

  function jobConsole(level) {
    return function log(...args) {
      if (slice === null) consoleBuffer.push({ level, args });
      else emitConsole(level, args);
    };
  }

  work.emit = function emit(customEvent, value) {
    if (typeof customEvent !== 'string') {
      throw new ErrorCtor(`Event name passed to work.emit must be a string, not ${customEvent}.`);
    }
    post(3, { request: 'emitEvent', payload: { eventName: 'custom', customEvent, data: value } });
  };
  work.reject = function reject(reason, retries) {
    if (retries === undefined) {
      retries = 0;
      if (reason === false) {
        retries = 1;
        reason = 'false';
      }
    }
    const current = slice;
    if (current) {
      current.done = true;
      current.rejected = true;
      measurement(current);
    }
    slice = null;
    timersLocked = true;
    clearJobTimers();
    post(3, { request: 'workReject', workRejectData: { reason, retries } }, 'slice-end');
    emit('die', 'DIE: worker close called');
  };
  work.job = { public: jobPublic };
  freeze(work);

  /* ---- fetch (proxied through the supervisor) -------------------------------------------- */
  const fetchWaits = new Map();

  function bytesOf(body) {
    if (body === undefined || body === null) return null;
    if (typeof body === 'string') return new global.TextEncoder().encode(body);
    if (body instanceof ArrayBuffer) return new Uint8Array(body.slice(0));
    if (ArrayBuffer.isView(body))
      return new Uint8Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
    if (body instanceof URLSearchParamsCtor) return new global.TextEncoder().encode(body.toString());
    return new global.TextEncoder().encode(StringCtor(body));
  }
  const URLSearchParamsCtor = global.URLSearchParams;

  class Headers {
    constructor(init) {
      this._map = new Map();
      if (init instanceof Headers) for (const [k, v] of init) this.append(k, v);
      else if (isArray(init)) for (const [k, v] of init) this.append(k, v);
      else if (init && typeof init === 'object') for (const k of keys(init)) this.append(k, init[k]);
    }
    append(k, v) {
      const key = StringCtor(k).toLowerCase();
      const prev = this._map.get(key);
      this._map.set(key, prev === undefined ? StringCtor(v) : `${prev}, ${v}`);
    }
    set(k, v) {
      this._map.set(StringCtor(k).toLowerCase(), StringCtor(v));
    }
    get(k) {
      const v = this._map.get(StringCtor(k).toLowerCase());
      return v === undefined ? null : v;
    }
    has(k) {
      return this._map.has(StringCtor(k).toLowerCase());
    }
    delete(k) {
      this._map.delete(StringCtor(k).toLowerCase());
    }
    entries() {
      return [...this._map.entries()][Symbol.iterator]();
    }
    keys() {
      return [...this._map.keys()][Symbol.iterator]();
    }
    values() {
      return [...this._map.values()][Symbol.iterator]();
    }
    forEach(cb, thisArg) {
      for (const [k, v] of this._map) cb.call(thisArg, v, k, this);
    }
    [Symbol.iterator]() {
      return this.entries();
    }
  }

  class Body {
    _initBody(bytes) {
      this._bytes = bytes;
      this.bodyUsed = false;
    }
    _take() {
      if (this.bodyUsed) return PromiseCtor.reject(new TypeError('Body has already been consumed.'));
      this.bodyUsed = true;
      return PromiseCtor.resolve(this._bytes || new Uint8Array(0));
    }
    get body() {
      return this._bytes;
    }
    arrayBuffer() {
      return this._take().then((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    }
    bytes() {
      return this._take().then((b) => new Uint8Array(b));
    }
    text() {
      return this._take().then((b) => new global.TextDecoder().decode(b));
    }
    json() {
      return this.text().then((t) => JSONparse(t));
    }
  }

  class Request extends Body {
    constructor(input, init = {}) {
      super();
      const base = input instanceof Request ? input : null;
      this.url = base ? base.url : new global.URL(StringCtor(input)).href;
      this.method = StringCtor(init.method || (base ? base.method : 'GET')).toUpperCase();
      this.headers = new Headers(init.headers || (base ? base.headers : undefined));
      this.mode = init.mode || (base ? base.mode : 'cors');
      this.credentials = init.credentials || (base ? base.credentials : 'same-origin');
      this._initBody(init.body !== undefined ? bytesOf(init.body) : base ? base._bytes : null);
    }
  }

  class Response extends Body {
    constructor(body, init = {}) {
      super();
      this.status = init.status === undefined ? 200 : Number(init.status);
      this.statusText = init.statusText === undefined ? '' : StringCtor(init.statusText);
      this.headers = new Headers(init.headers);
      this.url = init.url || '';
      this.type = 'basic';
      this.redirected = false;
      this._initBody(bytesOf(body));
    }
    get ok() {
      return this.status >= 200 && this.status < 300;
    }
    static json(data, init) {
      return new Response(JSONstringify(data), init);
    }
  }

  function fetch(input, init) {
    return new PromiseCtor((resolve, reject) => {
      const req = new Request(input, init);
      const id = dateNow() + mathRandom();
      fetchWaits.set(id, { resolve, reject });
      post(2, {
        request: 'fetchRequest',
        id,
        data: {
          url: req.url,
          headersEntries: [...req.headers.entries()],
          method: req.method,
          bodyBuffer: req._bytes,
          mode: req.mode,
          credentials: req.credentials,
        },
      });
    });
  }

  function fetchReply(m) {
    const wait = fetchWaits.get(m.id);
    if (!wait) return;
    fetchWaits.delete(m.id);
    if (m.request === 'fetchError') {
      const e = new TypeError(StringCtor(m.error?.message || 'fetch failed'));
      if (m.error?.name) e.cause = { name: StringCtor(m.error.name) };
      wait.reject(e);
      return;
    }
    const d = m.data || {};
    wait.resolve(
      new Response(d.bodyBuffer, {
        status: d.status,
        statusText: d.statusText,
        headers: isArray(d.headersEntries) ? d.headersEntries : undefined,
        url: d.url,
      }),
    );
  }

  /* ---- eval (dcp-worker's start-up probe and debugging) ---------------------------------- */
  function evalRequest(m) {
    (async () => {
      const result = await indirectEval(StringCtor(m.data));
      post(2, { request: `evalResult::${m.msgId}`, data: result });
    })().catch((e) => {
      post(2, { request: 'error', error: errorPayload(e) });
    });
  }

  /* ---- the global scope a work function sees ---------------------------------------------- */
  const started = dateNow();
  const performance = freeze({
    now: () => dateNow() - started,
    timeOrigin: started,
    mark() {},
    measure() {},
  });
  const crypto = freeze({
    getRandomValues(arr) {
      if (!ArrayBuffer.isView(arr) || arr instanceof Float32Array || arr instanceof Float64Array) {
        throw new TypeError('getRandomValues: argument must be an integer typed array');
      }
      if (arr.byteLength > 65536) throw new RangeError('getRandomValues: quota exceeded (65536 bytes)');
      const bytes = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
      for (let i = 0; i < bytes.length; i++) bytes[i] = mathFloor(mathRandom() * 256);
      return arr;
    },
    randomUUID() {
      const b = new Uint8Array(16);
      this.getRandomValues(b);
      b[6] = (b[6] & 0x0f) | 0x40;
      b[8] = (b[8] & 0x3f) | 0x80;
      const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    },
  });
  const navigator = freeze({
    userAgent: 'dcp-emu-evaluator',
    hardwareConcurrency: 1,
    language: 'en-US',
    languages: freeze(['en-US']),
    onLine: true,
  });
  const location = freeze({
    href: 'about:blank',
    origin: 'null',
    protocol: 'about:',
    host: '',
    hostname: '',
    port: '',
    pathname: 'blank',
    search: '',
    hash: '',
    toString: () => 'about:blank',
  });
  const jobConsoleObject = freeze({
    log: jobConsole('log'),
    debug: jobConsole('debug'),
    info: jobConsole('info'),
    warn: jobConsole('warn'),
    error: jobConsole('error'),
  });

  function structuredClone(value) {
    return peerKvin.unmarshal(JSONparse(JSONstringify(peerKvin.marshal(value))));
  }

  /* Browsers refuse Atomics.wait on the main thread; so do we (a wait would only burn the slice). */
  defineProperty(Atomics, 'wait', {
    value: function wait() {
      throw new TypeError('Atomics.wait cannot be called in this context');
    },
    writable: false,
    configurable: false,
  });

  const globals = {
    self: global,
    console: jobConsoleObject,
    setTimeout: jobTimers.setTimeout,
    setInterval: jobTimers.setInterval,
    setImmediate: jobTimers.setImmediate,
    clearTimeout: jobTimers.clearTimeout,
    clearInterval: jobTimers.clearInterval,
    clearImmediate: jobTimers.clearImmediate,
    queueMicrotask: jobTimers.queueMicrotask,
    performance,
    crypto,
    navigator,
    location,
    structuredClone,
    fetch,
    Headers,
    Request,
    Response,
    progress,
    work,
    worktimes: worktimes(),
    importScripts() {
      throw new ErrorCtor('importScripts is not available in a DCP sandbox');
    },
    addEventListener(type, listener) {
      if (type === 'message' && typeof listener === 'function') userListeners.push(listener);
    },
    removeEventListener(type, listener) {
      const i = userListeners.indexOf(listener);
      if (type === 'message' && i >= 0) userListeners.splice(i, 1);
    },
    postMessage(value) {
      post(ring, value);
    },
  };
  for (const k of keys(globals)) {
    defineProperty(global, k, { value: globals[k], writable: true, configurable: true, enumerable: false });
  }

  /* Entry points for the host; it takes references and deletes the global. */
  global.__dcpEmuEntry = { dispatch, tick };

  post(0, { request: 'scriptLoaded', script: 'dcp-emu-prelude', result: 'success' });
  post(0, { request: '__sandboxLoaded' });
})(globalThis);
