import { DcpErrorCode } from '@dcp-emu/protocol';
import type { UserStore } from '../ports';
import { fail, ok, type Result } from '../result';
import { type SessionDeps, startSession } from '../sessions/sessions';
import { validate } from '../validation';
import { signInBody } from './credentials';
import type { PasswordHasher } from './password';
import type { SignedIn } from './sign-up.usecase';

export interface SignInDeps extends SessionDeps {
  users: UserStore;
  hasher: PasswordHasher;
}

/** Checks email and password and starts a session. Unknown email and wrong password look the same. */
export async function signIn(deps: SignInDeps, body: unknown): Promise<Result<SignedIn>> {
  const input = validate(signInBody, body);
  if (!input.ok) return input;
  const { email, password } = input.value;
  const user = await deps.users.findByEmail(email);
  const matches = await deps.hasher.verify(password, user?.passwordHash ?? (await deps.hasher.decoy()));
  if (!user || !matches) return fail(DcpErrorCode.EPERM, 'that email and password do not match an account');
  const session = await startSession(deps, user.id);
  return ok({ userId: user.id, email: user.email, ...session });
}
