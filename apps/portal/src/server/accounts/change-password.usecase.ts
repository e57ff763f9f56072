import { DcpErrorCode } from '@dcp-emu/protocol';
import type { SessionStore, UserStore } from '../ports';
import { fail, ok, type Result } from '../result';
import type { ActiveSession } from '../sessions/sessions';
import { validate } from '../validation';
import { changePasswordBody } from './credentials';
import type { PasswordHasher } from './password';

export interface ChangePasswordDeps {
  users: UserStore;
  sessions: SessionStore;
  hasher: PasswordHasher;
}

/**
 * Replaces the signed-in user's password after checking the current one, and signs out every
 * other session of that user (the current one stays).
 */
export async function changePassword(
  deps: ChangePasswordDeps,
  session: ActiveSession,
  body: unknown,
): Promise<Result<{ endedSessions: number }>> {
  const input = validate(changePasswordBody, body);
  if (!input.ok) return input;
  const user = await deps.users.findById(session.userId);
  if (!user) return fail(DcpErrorCode.ENOSESSION, 'your account no longer exists; sign up again');
  if (!(await deps.hasher.verify(input.value.currentPassword, user.passwordHash))) {
    return fail(DcpErrorCode.EPERM, 'the current password is not right', 'currentPassword');
  }
  if (input.value.currentPassword === input.value.newPassword) {
    return fail(
      DcpErrorCode.EINVAL,
      'choose a new password that differs from the current one',
      'newPassword',
    );
  }
  await deps.users.setPasswordHash(user.id, await deps.hasher.hash(input.value.newPassword));
  const endedSessions = await deps.sessions.deleteForUser(user.id, session.sessionId);
  return ok({ endedSessions });
}
