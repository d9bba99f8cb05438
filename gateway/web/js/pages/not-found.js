/** Any path no route knows. */

import { card, el, pageTitle } from "../dom.js";
import { t } from "../i18n.js";

export function render(root) {
  pageTitle(t("notFound.title"));
  root.append(card(
    el("h1", {}, t("notFound.title")),
    el("p", { class: "lead" }, t("notFound.lead")),
    el("a", { href: "/", class: "btn btn-primary" }, t("notFound.home"))));
}
