/** /profile/password: change the password (this session stays signed in; the others end). */

import { usernameForPasswordManagers } from "../account.js";
import { api } from "../api.js";
import { card, el, field, onSubmit, pageTitle, setNotice } from "../dom.js";
import { t } from "../i18n.js";
import { LIMITS, passwordProblem, problems, requiredProblem } from "../rules.js";
import { currentUser } from "../session.js";

export function render(root) {
  pageTitle(t("password.title"));
  const form = el("form", { class: "stack", "aria-label": t("password.title") },
    usernameForPasswordManagers(),
    field({ name: "current_password", label: t("field.currentPassword"), type: "password",
            autocomplete: "current-password", required: true }),
    field({ name: "new_password", label: t("field.newPassword"), type: "password", autocomplete: "new-password",
            required: true, hint: t("signup.passwordHint", { min: LIMITS.passwordMin }) }),
    field({ name: "confirm", label: t("field.confirmPassword"), type: "password", autocomplete: "new-password",
            required: true }),
    el("div", { class: "form-notice" }),
    el("button", { type: "submit", class: "btn btn-primary btn-block" }, t("password.submit")));

  onSubmit(form, async (values, { slot }) => {
    await api.post("users/change_password/", { current_password: values.current_password,
                                               new_password: values.new_password });
    form.reset();
    setNotice(slot, "success", t("password.done"));
  }, {
    busyLabel: t("common.saving"),
    validate: (v) => problems({
      current_password: requiredProblem(v.current_password),
      new_password: passwordProblem(v.new_password, currentUser()?.username)
        || (v.new_password === v.current_password ? t("password.same") : null),
      confirm: v.confirm === v.new_password ? null : t("rules.mismatch"),
    }),
  });

  root.append(card(
    el("p", { class: "breadcrumb" }, el("a", { href: "/profile" }, t("profile.back"))),
    el("h1", {}, t("password.title")),
    el("p", { class: "lead" }, t("password.lead")),
    form));
}
