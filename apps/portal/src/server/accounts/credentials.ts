import { z } from 'zod';

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 256;

export const emailSchema = z
  .string({ error: 'enter your email address' })
  .trim()
  .toLowerCase()
  .max(254, 'that email address is too long')
  .pipe(z.email({ error: 'enter a valid email address, like ada@example.com' }));

export const newPasswordSchema = z
  .string({ error: 'enter a password' })
  .min(MIN_PASSWORD_LENGTH, `use at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(MAX_PASSWORD_LENGTH, `use at most ${MAX_PASSWORD_LENGTH} characters`);

/** POST /api/auth/signup */
export const signUpBody = z.object({ email: emailSchema, password: newPasswordSchema });
/** POST /api/auth/signin: no policy check, so old accounts can still sign in */
export const signInBody = z.object({
  email: emailSchema,
  password: z.string({ error: 'enter your password' }).min(1, 'enter your password').max(MAX_PASSWORD_LENGTH),
});
/** POST /api/auth/password */
export const changePasswordBody = z.object({
  currentPassword: z
    .string({ error: 'enter your current password' })
    .min(1, 'enter your current password')
    .max(MAX_PASSWORD_LENGTH),
  newPassword: newPasswordSchema,
});

export type SignUpBody = z.infer<typeof signUpBody>;
export type SignInBody = z.infer<typeof signInBody>;
export type ChangePasswordBody = z.infer<typeof changePasswordBody>;
