import { DcpErrorCode } from '@dcp-emu/protocol';
import { z } from 'zod';
import { keystoreFileName } from '../../lib/keystore/kinds';
import type { KeystoreStore, KeystoreSummary } from '../ports';
import { fail, ok, type Result } from '../result';

const keystoreId = z.uuid();
const NOT_FOUND = 'no such keystore in your account; it may have been deleted';

/** The signed-in user's keystores, newest first, without their encrypted JSON. */
export async function listKeystores(
  deps: { keystores: KeystoreStore },
  userId: string,
): Promise<KeystoreSummary[]> {
  return deps.keystores.list(userId);
}

/** One keystore of the user as a download: file name by kind, content the stored JSON. */
export async function downloadKeystore(
  deps: { keystores: KeystoreStore },
  userId: string,
  id: string,
): Promise<Result<{ fileName: string; json: string; summary: KeystoreSummary }>> {
  if (!keystoreId.safeParse(id).success) return fail(DcpErrorCode.ENOENT, NOT_FOUND);
  const found = await deps.keystores.get(userId, id);
  if (!found) return fail(DcpErrorCode.ENOENT, NOT_FOUND);
  const { json, userId: _owner, ...summary } = found;
  return ok({ fileName: keystoreFileName(found.kind), json, summary });
}

export async function deleteKeystore(
  deps: { keystores: KeystoreStore },
  userId: string,
  id: string,
): Promise<Result<{ id: string }>> {
  if (!keystoreId.safeParse(id).success) return fail(DcpErrorCode.ENOENT, NOT_FOUND);
  return (await deps.keystores.delete(userId, id)) ? ok({ id }) : fail(DcpErrorCode.ENOENT, NOT_FOUND);
}
