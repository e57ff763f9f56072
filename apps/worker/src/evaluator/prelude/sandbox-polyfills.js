/**
 * dcp-emu sandbox polyfills: web APIs a DCP work function may use that a bare V8 isolate lacks.
 * Evaluated inside the isolate before KVIN (so KVIN's constructor table sees URL). Plain JS,
 * no host objects: everything here is built from ES built-ins of the sandbox's own realm.
 */
(function dcpEmuPolyfills(global) {
  // biome-ignore lint/suspicious/noRedundantUseStrict: a script run in the isolate, not a module; strict mode hides these frames from CallSites and fn.caller
  'use strict';
  function define(name, value) {
    Object.defineProperty(global, name, { value, writable: true, configurable: true, enumerable: false });
  }

  /* UTF-8 TextEncoder / TextDecoder */
  class TextEncoder {
    get encoding() {
      return 'utf-8';
    }
    encode(input = '') {
      const str = String(input);
      const out = [];
      for (let i = 0; i < str.length; i++) {
        let c = str.charCodeAt(i);
        if (c >= 0xd800 && c <= 0xdbff && i + 1 < str.length) {
          const d = str.charCodeAt(i + 1);
          if (d >= 0xdc00 && d <= 0xdfff) {
            c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
            i++;
          } else c = 0xfffd;
        } else if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
        if (c < 0x80) out.push(c);
        else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
        else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
        else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      }
      return new Uint8Array(out);
    }
  }

  function toBytes(input) {
    if (input === undefined || input === null) return new Uint8Array(0);
    if (input instanceof ArrayBuffer) return new Uint8Array(input);
    if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    throw new TypeError('The provided value is not of type (ArrayBuffer or ArrayBufferView)');
  }

  class TextDecoder {
    constructor(label = 'utf-8') {
      const l = String(label).toLowerCase();
      if (l !== 'utf-8' && l !== 'utf8')
        throw new RangeError(`The encoding label provided ('${label}') is invalid.`);
    }
    get encoding() {
      return 'utf-8';
    }
    decode(input) {
      const b = toBytes(input);
      let s = '';
      let i = 0;
      if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) i = 3;
      const units = [];
      while (i < b.length) {
        const c = b[i++];
        let cp = 0xfffd;
        if (c < 0x80) cp = c;
        else if (c >= 0xc2 && c < 0xe0 && i < b.length && (b[i] & 0xc0) === 0x80)
          cp = ((c & 31) << 6) | (b[i++] & 63);
        else if (
          c >= 0xe0 &&
          c < 0xf0 &&
          i + 1 < b.length &&
          (b[i] & 0xc0) === 0x80 &&
          (b[i + 1] & 0xc0) === 0x80
        ) {
          cp = ((c & 15) << 12) | ((b[i] & 63) << 6) | (b[i + 1] & 63);
          i += 2;
          if (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)) cp = 0xfffd;
        } else if (
          c >= 0xf0 &&
          c < 0xf5 &&
          i + 2 < b.length &&
          (b[i] & 0xc0) === 0x80 &&
          (b[i + 1] & 0xc0) === 0x80 &&
          (b[i + 2] & 0xc0) === 0x80
        ) {
          cp = ((c & 7) << 18) | ((b[i] & 63) << 12) | ((b[i + 1] & 63) << 6) | (b[i + 2] & 63);
          i += 3;
          if (cp < 0x10000 || cp > 0x10ffff) cp = 0xfffd;
        }
        if (cp >= 0x10000) {
          cp -= 0x10000;
          units.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 1023));
        } else units.push(cp);
        if (units.length > 8192) {
          s += String.fromCharCode.apply(null, units);
          units.length = 0;
        }
      }
      return s + String.fromCharCode.apply(null, units);
    }
  }

  /* base64 */
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  function btoa(input) {
    const s = String(input);
    let out = '';
    for (let i = 0; i < s.length; i += 3) {
      const a = s.charCodeAt(i);
      const b = s.charCodeAt(i + 1);
      const c = s.charCodeAt(i + 2);
      if (a > 255 || b > 255 || c > 255)
        throw new Error('InvalidCharacterError: btoa: character out of range');
      const n = (a << 16) | ((b || 0) << 8) | (c || 0);
      out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
      out += i + 1 < s.length ? B64[(n >> 6) & 63] : '=';
      out += i + 2 < s.length ? B64[n & 63] : '=';
    }
    return out;
  }
  function atob(input) {
    const s = String(input)
      .replace(/[\t\n\f\r ]/g, '')
      .replace(/={1,2}$/, '');
    if (s.length % 4 === 1 || /[^A-Za-z0-9+/]/.test(s))
      throw new Error('InvalidCharacterError: atob: invalid base64');
    let out = '';
    let bits = 0;
    let acc = 0;
    for (let i = 0; i < s.length; i++) {
      acc = (acc << 6) | B64.indexOf(s[i]);
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out += String.fromCharCode((acc >> bits) & 255);
      }
    }
    return out;
  }

  /* URLSearchParams + URL (WHATWG-shaped subset: absolute and relative http(s)/data/file URLs) */
  class URLSearchParams {
    constructor(init = '') {
      this._list = [];
      if (typeof init === 'string') {
        const q = init.startsWith('?') ? init.slice(1) : init;
        for (const part of q.split('&')) {
          if (!part) continue;
          const eq = part.indexOf('=');
          const k = eq < 0 ? part : part.slice(0, eq);
          const v = eq < 0 ? '' : part.slice(eq + 1);
          this._list.push([
            decodeURIComponent(k.replace(/\+/g, ' ')),
            decodeURIComponent(v.replace(/\+/g, ' ')),
          ]);
        }
      } else if (init && typeof init === 'object') {
        const entries = typeof init[Symbol.iterator] === 'function' ? init : Object.entries(init);
        for (const [k, v] of entries) this._list.push([String(k), String(v)]);
      }
    }
    append(k, v) {
      this._list.push([String(k), String(v)]);
    }
    get(k) {
      const e = this._list.find((x) => x[0] === k);
      return e ? e[1] : null;
    }
    getAll(k) {
      return this._list.filter((x) => x[0] === k).map((x) => x[1]);
    }
    has(k) {
      return this._list.some((x) => x[0] === k);
    }
    set(k, v) {
      const i = this._list.findIndex((x) => x[0] === k);
      this._list = this._list.filter((x, j) => x[0] !== k || j === i);
      if (i < 0) this._list.push([String(k), String(v)]);
      else this._list[this._list.findIndex((x) => x[0] === k)][1] = String(v);
    }
    delete(k) {
      this._list = this._list.filter((x) => x[0] !== k);
    }
    entries() {
      return this._list.map((x) => [x[0], x[1]])[Symbol.iterator]();
    }
    [Symbol.iterator]() {
      return this.entries();
    }
    forEach(cb, thisArg) {
      for (const [k, v] of this._list) cb.call(thisArg, v, k, this);
    }
    toString() {
      return this._list.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
    }
  }

  const URL_RE =
    /^([a-zA-Z][a-zA-Z0-9+.-]*:)(?:\/\/(?:([^:@/?#]*)(?::([^@/?#]*))?@)?(\[[^\]]*\]|[^:/?#]*)(?::(\d*))?)?([^?#]*)(\?[^#]*)?(#.*)?$/;
  const DEFAULT_PORTS = { 'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443', 'ftp:': '21' };

  function normalizePath(path) {
    const out = [];
    const segs = path.split('/');
    for (let i = 0; i < segs.length; i++) {
      const seg = segs[i];
      if (seg === '..') {
        if (out.length > 1) out.pop();
        if (i === segs.length - 1) out.push('');
      } else if (seg === '.') {
        if (i === segs.length - 1) out.push('');
      } else out.push(seg);
    }
    return out.join('/') || '/';
  }

  class URL {
    constructor(url, base) {
      let str = String(url).trim();
      let m = URL_RE.exec(str);
      if (!m) {
        if (base === undefined) throw new TypeError(`Invalid URL: ${str}`);
        const b = new URL(base);
        if (str.startsWith('//')) str = b.protocol + str;
        else if (str.startsWith('/')) str = `${b.protocol}//${b.host}${str}`;
        else if (str.startsWith('?')) str = `${b.protocol}//${b.host}${b.pathname}${str}`;
        else if (str.startsWith('#')) str = `${b.protocol}//${b.host}${b.pathname}${b.search}${str}`;
        else str = `${b.protocol}//${b.host}${b.pathname.replace(/[^/]*$/, '')}${str}`;
        m = URL_RE.exec(str);
        if (!m) throw new TypeError(`Invalid URL: ${url}`);
      }
      const special = m[1].toLowerCase() in DEFAULT_PORTS || m[1].toLowerCase() === 'file:';
      this._protocol = m[1].toLowerCase();
      this._username = m[2] || '';
      this._password = m[3] || '';
      this._hostname = (m[4] || '').toLowerCase();
      this._port = m[5] && m[5] !== DEFAULT_PORTS[this._protocol] ? m[5] : '';
      this._hasAuthority = m[4] !== undefined;
      let path = m[6] || '';
      if (special) path = normalizePath(path || '/');
      this._pathname = path;
      this._search = m[7] && m[7] !== '?' ? m[7] : '';
      this._hash = m[8] && m[8] !== '#' ? m[8] : '';
      if (special && this._protocol !== 'file:' && !this._hostname)
        throw new TypeError(`Invalid URL: ${url}`);
      this._params = new URLSearchParams(this._search);
    }
    get protocol() {
      return this._protocol;
    }
    get username() {
      return this._username;
    }
    get password() {
      return this._password;
    }
    get hostname() {
      return this._hostname;
    }
    get port() {
      return this._port;
    }
    get host() {
      return this._port ? `${this._hostname}:${this._port}` : this._hostname;
    }
    get origin() {
      return this._protocol in DEFAULT_PORTS ? `${this._protocol}//${this.host}` : 'null';
    }
    get pathname() {
      return this._pathname;
    }
    get search() {
      return this._search;
    }
    get searchParams() {
      return this._params;
    }
    get hash() {
      return this._hash;
    }
    get href() {
      const auth = this._username ? `${this._username}${this._password ? `:${this._password}` : ''}@` : '';
      const authority = this._hasAuthority ? `//${auth}${this.host}` : '';
      return `${this._protocol}${authority}${this._pathname}${this.search}${this._hash}`;
    }
    toString() {
      return this.href;
    }
    toJSON() {
      return this.href;
    }
  }

  define('TextEncoder', TextEncoder);
  define('TextDecoder', TextDecoder);
  define('btoa', btoa);
  define('atob', atob);
  define('URLSearchParams', URLSearchParams);
  define('URL', URL);
})(globalThis);
