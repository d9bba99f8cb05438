/** /reset-password?token=…: choose a new password with the link from the mail. */

import { api, ApiError } from "../api.js";
import { card, el, field, icon, notice, onSubmit, pageTitle, setNotice } from "../dom.js";
import { t } from "../i18n.js";
import { LIMITS, passwordProblem, problems } from "../rules.js";

function tokenRefused(err) {
  if (!(err instanceof ApiError) || err.status === 0 || err.status >= 500 || err.status === 429) return false;
  return "token" in err.fields || /token|expired|used/.test(String(err.code)) || err.status === 404 || err.status === 410;
}

export function render(root, { query }) {
  pageTitle(t("reset.title"));
  const token = query.get("token");
  const again = el("a", { href: "/forgot-password" }, t("reset.requestAgain"));
  if (!token) {
    root.append(card(el("h1", {}, t("reset.title")), notice("error", t("reset.missing"), " ", again)));
    return;
  }
  const body = el("div", { class: "stack" });
  const form = el("form", { class: "stack", "aria-label": t("reset.title") },
    field({ name: "new_password", label: t("field.newPassword"), type: "password", autocomplete: "new-password",
            required: true, hint: t("signup.passwordHint", { min: LIMITS.passwordMin }) }),
    field({ name: "confirm", label: t("field.confirmPassword"), type: "password", autocomplete: "new-password",
            required: true }),
    el("div", { class: "form-notice" }),
    el("button", { type: "submit", class: "btn btn-primary btn-block" }, t("reset.submit")));
  onSubmit(form, async (values, { slot }) => {
    try {
      await api.post("users/password-reset/confirm/", { token, new_password: values.new_password });
    } catch (err) {
      if (!tokenRefused(err)) throw err;
      setNotice(slot, "error", t("reset.badToken"), " ", again);
      return;
    }
    body.replaceChildren(
      el("div", { class: "card-icon success" }, icon("check")),
      notice("success", t("reset.done")),
      el("a", { href: "/login", class: "btn btn-primary btn-block" }, t("reset.toLogin")));
  }, {
    busyLabel: t("common.saving"),
    validate: (v) => problems({ new_password: passwordProblem(v.new_password),
                                confirm: v.confirm === v.new_password ? null : t("rules.mismatch") }),
  });
  body.append(el("p", { class: "lead" }, t("reset.lead")), form);
  root.append(card(el("h1", {}, t("reset.title")), body));
}
