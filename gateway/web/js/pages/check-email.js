/** After sign-up: "check your mail", with a way to have the link sent again. */

import { outboxHint, rememberedEmail, resendForm } from "../account.js";
import { card, el, icon, pageTitle } from "../dom.js";
import { t } from "../i18n.js";

export function render(root) {
  pageTitle(t("checkEmail.title"));
  const email = rememberedEmail();
  root.append(card(
    el("div", { class: "card-icon" }, icon("mail")),
    el("h1", {}, t("checkEmail.title")),
    el("p", { class: "lead" }, email ? t("checkEmail.sentTo", { email }) : t("checkEmail.sent")),
    el("p", {}, t("checkEmail.next")),
    outboxHint(),
    el("h2", { class: "section-title" }, t("checkEmail.noMail")),
    el("p", { class: "muted" }, t("checkEmail.noMailHelp")),
    resendForm(email),
    el("p", { class: "card-footer" }, t("checkEmail.verified"), " ", el("a", { href: "/login" }, t("checkEmail.toLogin")))));
}
