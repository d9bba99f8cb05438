/** The front page: what TeamMoa is, and the way in. */

import { el, icon, pageTitle } from "../dom.js";
import { t } from "../i18n.js";
import { currentUser } from "../session.js";

const FEATURES = [
  ["calendar", "landing.schedule.title", "landing.schedule.text"],
  ["mindmap", "landing.mindmap.title", "landing.mindmap.text"],
  ["todo", "landing.todos.title", "landing.todos.text"],
  ["flag", "landing.milestones.title", "landing.milestones.text"],
  ["board", "landing.board.title", "landing.board.text"],
];

export function render(root) {
  pageTitle(t("landing.title"));
  const user = currentUser();
  const actions = user
    ? [el("a", { href: "/teams", class: "btn btn-primary btn-lg" }, t("landing.toTeams"))]
    : [el("a", { href: "/signup", class: "btn btn-primary btn-lg" }, t("landing.signup")),
       el("a", { href: "/login", class: "btn btn-secondary btn-lg" }, t("landing.login"))];
  root.append(
    el("section", { class: "hero" }, el("div", { class: "container" },
      el("p", { class: "eyebrow" }, t("landing.eyebrow")),
      el("h1", {}, t("landing.headline")),
      el("p", { class: "lead" }, t("landing.lead")),
      el("div", { class: "hero-actions" }, actions),
      user ? el("p", { class: "muted" }, t("landing.welcomeBack", { name: user.nickname || user.username })) : null)),
    el("section", { class: "container features", "aria-label": t("landing.featuresLabel") },
      FEATURES.map(([name, title, text]) => el("article", { class: "feature" },
        el("span", { class: "feature-icon" }, icon(name)),
        el("h2", {}, t(title)),
        el("p", {}, t(text))))),
  );
}
