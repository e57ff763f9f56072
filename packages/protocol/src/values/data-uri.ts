import { DcpError, DcpErrorCode } from '../errors';
import type { Generation } from '../messages';
import { kvinFor, parseKvin } from './kvin';

export type DataUriType = 'application/x-kvin' | 'application/json' | 'text/plain';

function base64Decode(text: string): Uint8Array {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export const dataUri = {
  /**
   * Encode a value as DCP does for results: `data:application/x-kvin,` + encodeURI(KVIN text) by
   * default (v8 for 4.x peers), JSON or text when asked. Always encodeURI, never base64: dcp-client
   * decodes with decodeURI.
   */
  encode(value: unknown, options: { type?: DataUriType; generation?: Generation } = {}): string {
    const type = options.type ?? 'application/x-kvin';
    switch (type) {
      case 'application/json':
        return `data:application/json,${encodeURI(typeof value === 'string' ? value : JSON.stringify(value))}`;
      case 'text/plain':
        return `data:,${encodeURI(String(value))}`;
      default:
        return `data:application/x-kvin,${encodeURI(kvinFor(options.generation ?? 5).serialize(value))}`;
    }
  },

  /** Decode a data: URI by its MIME type (x-kvin, json, text/*, octet-stream; base64 or URI-encoded). */
  decode(uri: string): unknown {
    const m = /^data:([^,]*),(.*)$/s.exec(uri);
    if (!m) throw new DcpError(DcpErrorCode.EINVAL, 'not a data: URI');
    const params = m[1]!.split(';');
    const mime = params[0] || 'text/plain';
    const isBase64 = params.includes('base64');
    const body = m[2]!;
    const bytes = isBase64 ? base64Decode(body) : undefined;
    const text = bytes ? new TextDecoder().decode(bytes) : decodeURI(body);
    try {
      switch (mime) {
        case 'application/x-kvin':
          return parseKvin(text);
        case 'application/json':
          return JSON.parse(text);
        case 'application/octet-stream':
          return bytes ?? new TextEncoder().encode(text);
        default:
          return text;
      }
    } catch (error) {
      throw new DcpError(DcpErrorCode.EINVAL, `cannot decode ${mime} data URI: ${String(error)}`);
    }
  },
};
