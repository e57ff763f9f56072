/**
 * The one list of DCP error codes dcp-emu speaks. Codes travel in ErrorPayloads
 * (`{name, message, code, stack, origin}`) and in slice-return reasons; the names are DCP's own
 * (see docs/protocol.md), so unmodified clients print and branch on them.
 */
export enum DcpErrorCode {
  /** malformed or invalid request data */
  EINVAL = 'EINVAL',
  /** operation unknown to the service */
  ENOTSUP = 'ENOTSUP',
  /** protocol version not acceptable */
  EVERSION = 'EVERSION',
  /** message signature does not match its owner, or the owner changed mid-connection */
  EBADSIG = 'EBADSIG',
  /** resource authorization (allow/auth) missing or invalid */
  EPERM = 'EPERM',
  /** validity stamp time is too far in the future */
  ETIMETRAVEL = 'ETIMETRAVEL',
  /** validity stamp expired */
  EEXPIRED = 'EEXPIRED',
  /** validity stamp (or message) already seen */
  EDUP = 'EDUP',
  /** session (dcpsid) unknown or closed */
  ENOSESSION = 'ENOSESSION',
  /** message or frame larger than allowed */
  ETOOBIG = 'ETOOBIG',
  /** no such job, slice, account, group or module */
  ENOENT = 'ENOENT',
  /** the payment account cannot cover the job */
  ENOFUNDS = 'ENOFUNDS',
  /** bank account unknown */
  ENOACCOUNT = 'ENOACCOUNT',
  /** job is not in a state that allows the operation */
  EJOBSTATE = 'EJOBSTATE',
  /** job cancelled (by its owner or by the scheduler) */
  ECANCELLED = 'ECANCELLED',
  /** too many slices of a job failed */
  ETOOMANYERRORS = 'ETOOMANYERRORS',
  /** a sandbox reported no progress in time */
  ENOPROGRESS = 'ENOPROGRESS',
  /** a slice ran longer than allowed */
  ESLICETOOSLOW = 'ESLICETOOSLOW',
  /** the work function threw */
  EUNCAUGHT = 'EUNCAUGHT',
  /** the work function called work.reject() */
  EWORKREJECT = 'EWORKREJECT',
  /** a sandbox exceeded its memory limit */
  ENOMEM = 'ENOMEM',
  /** fetch from an origin that is not allowed */
  EPERM_ORIGIN = 'EPERM_ORIGIN',
  /** fetching a job artifact failed */
  EFETCH = 'EFETCH',
  /** a required module could not be found */
  ENOMODULE = 'ENOMODULE',
  /** the evaluator or sandbox died */
  ESANDBOX = 'ESANDBOX',
  /** compute-group join credentials invalid */
  EGROUP = 'EGROUP',
  /** the peer's address differs from the one pinned earlier */
  EADDRCHANGE = 'EADDRCHANGE',
  /** the connection or service is shutting down */
  EPIPE = 'EPIPE',
  /** a request or a session did not complete in time */
  ETIMEDOUT = 'ETIMEDOUT',
  /** the peer closed the connection */
  ECONNRESET = 'ECONNRESET',
  /** the peer refused the connection (nothing listening) */
  ECONNREFUSED = 'ECONNREFUSED',
  /** the bank did not answer in time: nothing was escrowed (a submit: the job was not deployed) */
  ENOBANK = 'ENOBANK',
  /** an internal failure; details are logged, not sent */
  EINTERNAL = 'EINTERNAL',
}

/** DCP's ErrorPayload: the enumerable own properties of an Error plus the responder's address. */
export interface ErrorPayload {
  name: string;
  message: string;
  code?: string;
  stack?: string;
  origin?: string;
  [extra: string]: unknown;
}

/** An error that carries a DCP code; at the edges it becomes an ErrorPayload. */
export class DcpError extends Error {
  constructor(
    readonly code: DcpErrorCode | string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DCPError';
  }

  toPayload(origin?: string): ErrorPayload {
    return {
      name: this.name,
      message: this.message,
      code: this.code,
      stack: '',
      ...(this.details ?? {}),
      ...(origin ? { origin } : {}),
    };
  }

  /** Anything thrown → a payload safe to send: DcpErrors keep code and message, others become EINTERNAL. */
  static payloadOf(err: unknown, origin?: string): ErrorPayload {
    if (err instanceof DcpError) return err.toPayload(origin);
    return new DcpError(DcpErrorCode.EINTERNAL, 'internal error').toPayload(origin);
  }
}
