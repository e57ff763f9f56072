/**
 * @dcp-emu/protocol/node — everything in the core entry, plus the Node-only parts: the native
 * secp256k1 crypto (installed as the default on import), the socket.io target attachment and
 * keystore files.
 */
import { nativeCrypto } from './crypto/native';
import { setDefaultCrypto } from './crypto/port';

export * from './index';

setDefaultCrypto(nativeCrypto);

export { fileAckJournal } from './ack-journal-file';
export { nativeCrypto } from './crypto/native';
export {
  identityFromKeystore,
  type KeystoreOptions,
  keystoreJson,
  loadOrCreateIdentity,
  readKeystoreFile,
  writeClientKeystores,
  writeKeystoreFile,
} from './keystore';
export {
  type AttachedPath,
  type AttachedTarget,
  type AttachOptions,
  attachDcpTarget,
  socketPaths,
} from './transport/socketio-target';
