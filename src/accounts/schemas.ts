/** Request bodies of the auth routes (valibot: small, tree-shakable, Workers-friendly). */
import * as v from "valibot";
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from "./password.js";

const email = v.pipe(v.string("email must be a string"), v.trim(), v.toLowerCase(), v.maxLength(254, "email is too long"), v.email("email is not an email address"));
const password = (name: string) =>
  v.pipe(
    v.string(`${name} must be a string`),
    v.minLength(MIN_PASSWORD_LENGTH, `${name} must be at least ${MIN_PASSWORD_LENGTH} characters`),
    v.maxLength(MAX_PASSWORD_LENGTH, `${name} must be at most ${MAX_PASSWORD_LENGTH} characters`),
  );

/** How the token is handed over: in the body and `Authorization` (default), or in the `__Host-session` cookie only. */
export const TransportSchema = v.optional(v.picklist(["bearer", "cookie"], "transport must be bearer or cookie"), "bearer");

export const CredentialsSchema = v.strictObject({ email, password: password("password"), transport: TransportSchema }, "body must be {email, password, transport?}");
export const PasswordChangeSchema = v.strictObject(
  { currentPassword: v.pipe(v.string("currentPassword must be a string"), v.maxLength(MAX_PASSWORD_LENGTH, "currentPassword is too long")), newPassword: password("newPassword") },
  "body must be {currentPassword, newPassword}",
);
