import { DcpError, DcpErrorCode, type Generation, parseKvin } from '@dcp-emu/protocol/node';
import { z } from 'zod';
import { resultDataUri } from './job-input';

/**
 * `job.setResultStorage(url, params)` (dcp-client 4.x and 5.x): the submit carries
 * `resultStorageType: 'pattern'`, `resultStorageDetails` (the URL) and `resultStorageParams` (an
 * object of POST fields). Every slice handed out carries the three back; the worker then POSTs the
 * slice's result to the URL (`application/x-www-form-urlencoded`: the params plus `content`,
 * `element` = slice number, `contentType`) and submits, instead of the value, `result: <data: URI of
 * the storage's answer>`.
 */
export interface ResultStorage {
  type: 'pattern';
  /** where workers POST results (http or https) */
  location: string;
  /** extra POST fields (API keys, …); workers send each as `String(value)` */
  params: Record<string, unknown>;
}

export const resultStorageFields = {
  resultStorageType: z.string().optional(),
  resultStorageDetails: z.unknown().optional(),
  resultStorageParams: z.record(z.string(), z.unknown()).optional(),
};

function hrefOf(details: unknown): string | undefined {
  if (details instanceof URL) return details.href;
  if (typeof details === 'string') return details;
  if (details && typeof details === 'object' && typeof (details as { href?: unknown }).href === 'string')
    return (details as { href: string }).href;
  return undefined;
}

/** The job's result storage from its submit (none for `values`, the default). */
export function resultStorageOf(data: {
  resultStorageType?: string;
  resultStorageDetails?: unknown;
  resultStorageParams?: Record<string, unknown>;
}): ResultStorage | undefined {
  const type = data.resultStorageType;
  if (type === undefined || type === null || type === 'values') return undefined;
  if (type !== 'pattern')
    throw new DcpError(DcpErrorCode.EINVAL, `unsupported resultStorageType ${JSON.stringify(type)}`);
  const href = hrefOf(data.resultStorageDetails);
  let url: URL | undefined;
  try {
    url = href ? new URL(href) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw new DcpError(DcpErrorCode.EINVAL, 'resultStorageDetails must be an http(s) URL');
  return { type: 'pattern', location: url.href, params: data.resultStorageParams ?? {} };
}

/** The three fields of a slice message (the worker spec's `resultStorage*`). */
export function sliceStorageFields(storage: ResultStorage | undefined): Record<string, unknown> {
  if (!storage) return { resultStorageType: 'values' };
  return {
    resultStorageType: 'pattern',
    resultStorageDetails: storage.location,
    resultStorageParams: storage.params,
  };
}

const isHttpUrl = (s: string): boolean => {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
};

/**
 * What a client gets for a stored result (`result` events, `fetchResult`): a URI dcp-client hands to
 * its `fetchURI()`. For a job with result storage whose storage answered the worker's POST with the
 * result's location (an http(s) URL, as text or as `{href}` JSON), that location — dcp-client then
 * GETs the value from the storage itself; otherwise the stored value as a data: URI.
 */
export function resultUri(
  result: { string: string; method: 'json' | 'kvin' },
  generation: Generation,
  storage: ResultStorage | undefined,
): string {
  if (storage) {
    const answer = locationIn(result);
    if (answer) return answer;
  }
  return resultDataUri(result, generation);
}

function locationIn(result: { string: string; method: 'json' | 'kvin' }): string | undefined {
  let value: unknown;
  try {
    value = result.method === 'json' ? JSON.parse(result.string) : parseKvin(result.string);
  } catch {
    return undefined;
  }
  if (typeof value === 'string') return isHttpUrl(value.trim()) ? value.trim() : undefined;
  const href = value && typeof value === 'object' ? (value as { href?: unknown }).href : undefined;
  return typeof href === 'string' && isHttpUrl(href) ? href : undefined;
}
