/** /api-reference: where each service's OpenAPI document lives. */

import { el, icon, pageHeader, pageTitle } from "../dom.js";
import { t } from "../i18n.js";

const DOCUMENTS = [
  ["/api/v1/users/openapi.json", "apiRef.users.title", "apiRef.users.text"],
  ["/api/v1/teams/openapi.json", "apiRef.teams.title", "apiRef.teams.text"],
  ["/api/v1/schedules/openapi.json", "apiRef.schedules.title", "apiRef.schedules.text"],
];

export function render(root) {
  pageTitle(t("apiRef.title"));
  root.append(el("div", { class: "container medium" },
    pageHeader(t("apiRef.title"), t("apiRef.lead")),
    el("ul", { class: "doc-list" }, DOCUMENTS.map(([href, title, text]) => el("li", { class: "card" },
      el("span", { class: "feature-icon" }, icon("doc")),
      el("div", {},
        el("h2", {}, el("a", { href, target: "_blank", rel: "noopener" }, t(title))),
        el("p", {}, t(text)),
        el("code", {}, href))))),
    el("p", { class: "muted" }, t("apiRef.auth"))));
}
