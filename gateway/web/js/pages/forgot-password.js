/** /forgot-password: ask for a password-reset link (the answer is the same whether the address exists). */

import { outboxHint } from "../account.js";
import { api } from "../api.js";
import { card, el, field, onSubmit, pageTitle, setNotice } from "../dom.js";
import { t } from "../i18n.js";
import { emailProblem, problems } from "../rules.js";

export function render(root) {
  pageTitle(t("forgot.title"));
  const hint = el("div");
  const form = el("form", { class: "stack", "aria-label": t("forgot.title") },
    field({ name: "email", label: t("field.email"), type: "email", autocomplete: "email", required: true }),
    el("div", { class: "form-notice" }),
    el("button", { type: "submit", class: "btn btn-primary btn-block" }, t("forgot.submit")));
  onSubmit(form, async ({ email }, { slot }) => {
    await api.post("users/password-reset/", { email: email.trim() });
    setNotice(slot, "success", t("forgot.sent", { email: email.trim() }));
    hint.replaceChildren(outboxHint());
  }, { busyLabel: t("forgot.sending"), validate: ({ email }) => problems({ email: emailProblem(email) }) });

  root.append(card(
    el("h1", {}, t("forgot.title")),
    el("p", { class: "lead" }, t("forgot.lead")),
    form,
    hint,
    el("p", { class: "card-footer" }, el("a", { href: "/login" }, t("forgot.backToLogin")))));
}
