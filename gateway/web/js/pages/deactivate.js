/** /profile/deactivate: end the account, after the password and an explicit confirmation. */

import { usernameForPasswordManagers } from "../account.js";
import { api } from "../api.js";
import { card, el, field, onSubmit, pageTitle, toast } from "../dom.js";
import { t } from "../i18n.js";
import { navigate } from "../router.js";
import { problems, requiredProblem } from "../rules.js";
import { setUser } from "../session.js";

export function render(root) {
  pageTitle(t("deactivate.title"));
  const confirmId = "deactivate-confirm";
  const form = el("form", { class: "stack", "aria-label": t("deactivate.title") },
    usernameForPasswordManagers(),
    field({ name: "password", label: t("field.password"), type: "password", autocomplete: "current-password",
            required: true }),
    el("div", { class: "field checkbox", dataset: { field: "confirm" } },
      el("label", { for: confirmId }, el("input", { type: "checkbox", id: confirmId, name: "confirm", value: "yes" }),
        el("span", {}, t("deactivate.confirm"))),
      el("p", { class: "field-message", "aria-live": "polite" })),
    el("div", { class: "form-notice" }),
    el("button", { type: "submit", class: "btn btn-danger btn-block" }, t("deactivate.submit")));

  onSubmit(form, async (values) => {
    await api.delete("users/me/", { password: values.password });
    setUser(null);
    toast(t("deactivate.done"), "success", { timeoutMs: 10000 });
    navigate("/");
  }, {
    busyLabel: t("deactivate.working"),
    validate: (v) => problems({ password: requiredProblem(v.password),
                                confirm: v.confirm === "yes" ? null : t("deactivate.confirmNeeded") }),
  });

  root.append(card(
    el("p", { class: "breadcrumb" }, el("a", { href: "/profile" }, t("profile.back"))),
    el("h1", {}, t("deactivate.title")),
    el("p", { class: "lead" }, t("deactivate.lead")),
    el("ul", { class: "consequences" },
      el("li", {}, t("deactivate.teams")),
      el("li", {}, t("deactivate.posts")),
      el("li", {}, t("deactivate.sessions")),
      el("li", {}, t("deactivate.final"))),
    form));
}
