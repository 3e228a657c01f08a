/**
 * The local provider's pages (oidc-provider's development login, consent and logout pages) as
 * a person uses them in Chromium: fill in the login, continue past consent, cancel, confirm a
 * sign-out. Shared by the demo and SSO browser tests.
 */
import type { Page } from "playwright-core";

/** Signs in at the provider in `popup` (the login form, then consent when asked); the popup then goes back to the app. */
export async function signInAtProvider(popup: Page, login: string): Promise<void> {
  await popup.locator('input[name="login"]').fill(login);
  await popup.locator('input[name="password"]').fill("any password");
  await popup.getByRole("button", { name: "Sign-in" }).click();
  await continuePastConsent(popup);
}

/** Presses "Continue" on the consent page when the provider shows one (a first sign-in of this client). */
export async function continuePastConsent(popup: Page): Promise<void> {
  const consent = popup.getByRole("button", { name: "Continue" });
  // The popup either shows consent or has already gone back to the app (and may have closed).
  const shown = await consent.waitFor({ state: "visible", timeout: 10_000 }).then(() => true, () => false);
  if (shown && !popup.isClosed()) await consent.click();
}

/** Presses the provider's "[ Cancel ]" on the login page. */
export async function cancelAtProvider(popup: Page): Promise<void> {
  await popup.locator('input[name="login"]').waitFor();
  await popup.getByRole("link", { name: "[ Cancel ]" }).click();
}

/** Confirms the provider's "Do you want to sign-out" page; resolves when the click is sent. */
export async function confirmSignOutAtProvider(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Yes, sign me out" }).click();
}
