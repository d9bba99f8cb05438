/**
 * PLACEHOLDER for the "my teams" page, so logging in has somewhere to land.
 * Replace it: point the "/teams" line of ROUTES in app.js at the real page, then delete this file
 * and the "teamsPlaceholder.*" strings.
 */

import { el, pageHeader, pageTitle } from "../dom.js";
import { t } from "../i18n.js";
import { currentUser } from "../session.js";

export function render(root) {
  pageTitle(t("teamsPlaceholder.title"));
  const user = currentUser();
  root.append(el("div", { class: "container", dataset: { placeholder: "teams" } },
    pageHeader(t("teamsPlaceholder.title"), t("teamsPlaceholder.lead", { name: user?.nickname || "" })),
    el("section", { class: "card empty" }, el("p", {}, t("teamsPlaceholder.empty")))));
}
