/** Log in with username or e-mail and password; then on to /teams (or where the visitor was going). */

import { resendForm } from "../account.js";
import { api, ApiError, describeError, userOf } from "../api.js";
import { card, el, field, notice, onSubmit, pageTitle, setFieldMessage, setNotice, toast } from "../dom.js";
import { t } from "../i18n.js";
import { navigate, safeNext } from "../router.js";
import { problems, requiredProblem } from "../rules.js";
import { setUser } from "../session.js";
import { providerButtons, providerError } from "../social.js";

export function render(root, { query }) {
  pageTitle(t("login.title"));
  const next = safeNext(query.get("next"));
  const form = el("form", { class: "stack", "aria-label": t("login.title") },
    field({ name: "login", label: t("field.login"), autocomplete: "username", required: true,
            autocapitalize: "none", spellcheck: "false" }),
    field({ name: "password", label: t("field.password"), type: "password", autocomplete: "current-password",
            required: true }),
    el("p", { class: "form-aside" }, el("a", { href: "/forgot-password" }, t("login.forgot"))),
    el("div", { class: "form-notice" }),
    el("button", { type: "submit", class: "btn btn-primary btn-block" }, t("login.submit")));
  const password = form.elements.namedItem("password");
  const resend = el("div", { class: "stack" });  // outside the form: forms do not nest

  onSubmit(form, async (values, { slot }) => {
    resend.replaceChildren();
    try {
      const data = await api.post("users/login/", { login: values.login.trim(), password: values.password },
                                  { retry: false });
      setUser(userOf(data));
      toast(t("login.welcome", { name: userOf(data)?.nickname || values.login.trim() }), "success");
      navigate(next);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.code === "email_not_verified") {
        const login = values.login.trim();
        setNotice(slot, "warning", t("login.notVerified"));
        resend.replaceChildren(el("h2", { class: "section-title" }, t("login.resendTitle")),
          resendForm(login.includes("@") ? login : ""));
      } else if (err.code === "invalid_credentials") {
        setNotice(slot, "error", t("errors.invalid_credentials"));
        password.value = "";
        password.focus();
      } else if (err.code === "rate_limited") {
        setNotice(slot, "error", describeError(err));
      } else if (Object.keys(err.fields).length) {
        for (const [name, message] of Object.entries(err.fields)) setFieldMessage(form, name, message);
        setNotice(slot, "error", t("errors.check_fields"));
      } else {
        setNotice(slot, "error", describeError(err));
      }
    }
  }, {
    busyLabel: t("login.submitting"),
    validate: (v) => problems({ login: requiredProblem(v.login.trim()), password: requiredProblem(v.password) }),
  });

  root.append(card(
    el("h1", {}, t("login.title")),
    query.get("next") ? notice("info", t("login.needed")) : null,
    providerError(query),
    form,
    providerButtons("login"),
    resend,
    el("p", { class: "card-footer" }, t("login.noAccount"), " ", el("a", { href: "/signup" }, t("login.toSignup")))));
  form.elements.namedItem("login").focus();
}
