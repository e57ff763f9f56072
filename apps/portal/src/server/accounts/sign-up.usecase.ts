import { DcpErrorCode } from '@dcp-emu/protocol';
import type { Ids, UserStore } from '../ports';
import { fail, ok, type Result } from '../result';
import { type SessionDeps, startSession } from '../sessions/sessions';
import { validate } from '../validation';
import { signUpBody } from './credentials';
import type { PasswordHasher } from './password';

export interface SignUpDeps extends SessionDeps {
  users: UserStore;
  ids: Ids;
  hasher: PasswordHasher;
}

export interface SignedIn {
  userId: string;
  email: string;
  token: string;
  expiresAt: Date;
}

/** Creates an account and signs it in. */
export async function signUp(deps: SignUpDeps, body: unknown): Promise<Result<SignedIn>> {
  const input = validate(signUpBody, body);
  if (!input.ok) return input;
  const { email, password } = input.value;
  const passwordHash = await deps.hasher.hash(password);
  const user = await deps.users.create({ id: deps.ids.next(), email, passwordHash });
  if (user === 'duplicate') {
    return fail(DcpErrorCode.EDUP, 'an account with this email already exists; sign in instead', 'email');
  }
  const session = await startSession(deps, user.id);
  return ok({ userId: user.id, email: user.email, ...session });
}
