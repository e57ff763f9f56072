/**
 * @dcp-emu/protocol — DCPv5 for Node and browsers. This entry imports no Node-only module; the
 * native crypto, the socket.io server attachment and keystore files live in `@dcp-emu/protocol/node`.
 */
import { nobleCrypto } from './crypto/noble';
import { setDefaultCrypto } from './crypto/port';

setDefaultCrypto(nobleCrypto);

export { type AckJournal, memoryAckJournal } from './ack-journal';
export { authorizedResources } from './auth';
export { nobleCrypto } from './crypto/noble';
export {
  addressOfPublicKey,
  type CryptoPort,
  getDefaultCrypto,
  isAddress,
  personalHash,
  recoverPersonal,
  sameAddress,
  setDefaultCrypto,
  signPersonal,
  toChecksumAddress,
  type WireSignature,
} from './crypto/port';
export { Emitter } from './emitter';
export { type Envelope, open, parseEnvelope, seal, verifyEnvelope } from './envelope';
export { DcpError, DcpErrorCode, type ErrorPayload } from './errors';
export { Identity } from './identity';
export { DcpInitiator, type InitiatorOptions } from './initiator';
export {
  type AckBody,
  type AllowEntry,
  type Generation,
  isCompatibleVersion,
  type MessageBody,
  type PeerCapabilities,
  PROTOCOL_VERSION,
  type Validity,
} from './messages';
export {
  type Clock,
  type ClockStatus,
  type ClockTimer,
  clockStatusSchema,
  parseDuration,
  systemClock,
  type TimeControl,
  timeAdvanceBody,
  timeFreezeBody,
  VirtualClock,
} from './clock';
export {
  consoleLogger,
  cryptoRandom,
  type Logger,
  type Random,
  silentLogger,
} from './ports';
export { type OperationContext, type OperationDefinition, OperationRegistry } from './registry';
export {
  DcpSession,
  errorFromPayload,
  type IncomingNotification,
  type IncomingRequest,
  type RequestOptions,
  type SessionOptions,
  type SessionRole,
  type SessionState,
} from './session';
export {
  type AcceptInfo,
  DcpTarget,
  defaultServicePath,
  type ServiceDefinition,
  type TargetOptions,
} from './target';
export { type FrameOptions, FramedLink, type MessageLink, type SocketLike } from './transport/frames';
export {
  NonceCache,
  requestBodyHash,
  SIGNED_REQUEST_HEADER,
  SIGNED_REQUEST_TYPE,
  SIGNED_REQUEST_WINDOW_MS,
  type SignedRequestBody,
  signRequest,
  type VerifyRequestOptions,
  verifySignedRequest,
} from './signed-request';
export { StampCache, type ValidityOptions, validityError } from './validity';
export { dataUri, type DataUriType } from './values/data-uri';
// DCC amounts: all of values/dcc.ts (the one owner; the bank's ledger/amount.ts re-exports them by name)
export * from './values/dcc';
export { type JobValue, jobValue, jobValueSchema } from './values/job-value';
export { encodeConfig, type Kvin, kvinFor, kvinVersionOf, parseKvin, unmarshalKvin } from './values/kvin';
