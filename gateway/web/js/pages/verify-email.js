/** /verify-email?token=…: confirm the address. It never signs anyone in; it sends them to log in. */

import { rememberedEmail, resendForm } from "../account.js";
import { api, describeError } from "../api.js";
import { card, el, fill, icon, loading, notice, pageTitle } from "../dom.js";
import { t } from "../i18n.js";

/** Which sentence explains a refused token. */
function tokenProblem(err) {
  const code = String(err.code || "");
  if (err.status === 0 || err.status >= 500 || err.status === 429) return describeError(err);
  if (code.includes("expired") || err.status === 410) return t("verify.expired");
  if (code.includes("used") || code.includes("already")) return t("verify.used");
  return t("verify.invalid");
}

export async function render(root, params) {
  pageTitle(t("verify.title"));
  const token = params.query.get("token");
  const body = el("div", { class: "stack" });
  root.append(card(el("h1", {}, t("verify.title")), body));
  if (!token) {
    body.replaceChildren(notice("error", t("verify.missing")), el("p", {}, t("verify.askAgain")),
      resendForm(rememberedEmail()));
    return;
  }
  body.replaceChildren(loading(t("verify.working")));
  try {
    await api.post("users/verify-email/", { token });
  } catch (err) {
    const retry = el("button", { type: "button", class: "btn btn-secondary" }, t("common.retry"));
    retry.addEventListener("click", () => {
      root.replaceChildren();
      render(root, params);
    });
    const transient = err.status === 0 || err.status >= 500;
    fill(body, notice("error", tokenProblem(err)),
      transient ? retry : [el("p", {}, t("verify.askAgain")), resendForm(rememberedEmail())]);
    return;
  }
  body.replaceChildren(
    el("div", { class: "card-icon success" }, icon("check")),
    notice("success", t("verify.done")),
    el("p", {}, t("verify.nowLogin")),
    el("a", { href: "/login", class: "btn btn-primary btn-block" }, t("verify.toLogin")));
}
