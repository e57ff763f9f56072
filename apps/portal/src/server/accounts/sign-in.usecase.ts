import { DcpErrorCode } from '@dcp-emu/protocol';
import type { UserStore } from '../ports';
import { fail, ok, type Result } from '../result';
import { type SessionDeps, startSession } from '../sessions/sessions';
import { validate } from '../validation';
import { signInBody } from './credentials';
import type { PasswordHasher } from './password';
import type { SignedIn } from './sign-up.usecase';
import type { SignInThrottle } from './throttle';

export interface SignInDeps extends SessionDeps {
  users: UserStore;
  hasher: PasswordHasher;
  throttle: SignInThrottle;
}

/**
 * Checks email and password and starts a session. Unknown email and wrong password look the same;
 * repeated failures for one email are throttled.
 */
export async function signIn(deps: SignInDeps, body: unknown): Promise<Result<SignedIn>> {
  const input = validate(signInBody, body);
  if (!input.ok) return input;
  const { email, password } = input.value;
  const wait = deps.throttle.retryAfter(email, new Date(deps.clock.now()));
  if (wait > 0) {
    const seconds = Math.ceil(wait / 1000);
    return fail(DcpErrorCode.EPERM, `too many failed sign-ins for this email; try again in ${seconds} s`);
  }
  const user = await deps.users.findByEmail(email);
  const matches = await deps.hasher.verify(password, user?.passwordHash ?? (await deps.hasher.decoy()));
  if (!user || !matches) {
    deps.throttle.failed(email, new Date(deps.clock.now()));
    return fail(DcpErrorCode.EPERM, 'that email and password do not match an account');
  }
  deps.throttle.succeeded(email);
  const session = await startSession(deps, user.id);
  return ok({ userId: user.id, email: user.email, ...session });
}
