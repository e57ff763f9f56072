/**
 * ethers (key generation, scrypt, AES) and the zod keystore schema are loaded on demand, so the
 * keystores page renders and becomes interactive without them; it fetches them in the background.
 */
export const keystoreCode = () => import('./create');
export const keystoreFormat = () => import('./format');
