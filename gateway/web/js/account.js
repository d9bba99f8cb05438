/** Pieces several account pages share: the resend-verification form and the development-outbox hint. */

import { api } from "./api.js";
import { el, field, notice, onSubmit, setNotice } from "./dom.js";
import { t } from "./i18n.js";
import { emailProblem, problems } from "./rules.js";
import { currentUser } from "./session.js";

const PENDING_EMAIL = "teammoa.pendingEmail";
let outboxAvailable = null;

/** Remember the address a verification mail went to (for the "check your mail" page). */
export function rememberEmail(email) {
  try {
    sessionStorage.setItem(PENDING_EMAIL, email);
  } catch {
    // the page then asks for the address
  }
}

export function rememberedEmail() {
  try {
    return sessionStorage.getItem(PENDING_EMAIL) || "";
  } catch {
    return "";
  }
}

/** A form that sends the verification mail again to an address. */
export function resendForm(email = "") {
  const form = el("form", { class: "stack resend-form" },
    field({ name: "email", label: t("field.email"), type: "email", value: email, autocomplete: "email",
            required: true }),
    el("div", { class: "form-notice" }),
    el("button", { type: "submit", class: "btn btn-secondary" }, t("resend.button")));
  onSubmit(form, async ({ email: address }, { slot }) => {
    await api.post("users/resend-verification/", { email: address.trim() });
    rememberEmail(address.trim());
    setNotice(slot, "success", t("resend.sent", { email: address.trim() }));
  }, { validate: ({ email: address }) => problems({ email: emailProblem(address) }), busyLabel: t("resend.sending") });
  return form;
}

/** Whether the development outbox exists (embedded mode); asked once per page load. */
export async function hasOutbox() {
  if (outboxAvailable === null) {
    try {
      await api.get("users/dev/outbox/");
      outboxAvailable = true;
    } catch {
      outboxAvailable = false;
    }
  }
  return outboxAvailable;
}

/** An element that, when TeamMoa runs locally, points to the development outbox. */
export function outboxHint() {
  const slot = el("div", { class: "outbox-hint" });
  hasOutbox().then((yes) => {
    if (yes) {
      slot.replaceChildren(notice("info", t("outbox.hint"), " ", el("a", { href: "/dev/outbox" }, t("outbox.open"))));
    }
  });
  return slot;
}

/** A hidden username input, so password managers know whose password a form changes. */
export function usernameForPasswordManagers() {
  return el("input", { type: "text", name: "username", autocomplete: "username", value: currentUser()?.username || "",
                       hidden: true, readonly: true, tabindex: "-1", "aria-hidden": "true" });
}
