/** /teams: my teams as cards (members/capacity, my role), with the ways to create or join a team. */

import { api } from "../api.js";
import { el, fill, loading, notice, pageHeader, pageTitle, setBusy } from "../dom.js";
import { t, tn } from "../i18n.js";
import { currentUser } from "../session.js";
import { teamError, teamIcon } from "../team-common.js";

const PAGE_SIZE = 24;

function teamCard(team) {
  const role = team.my_role === "host" ? "host" : "member";
  const full = team.member_count >= team.capacity;
  return el("li", { class: "team-card-item" },
    el("a", { href: `/teams/${team.id}`, class: "card team-card", dataset: { teamId: team.id } },
      el("div", { class: "team-card-head" },
        el("h2", { class: "team-card-name" }, team.name),
        el("span", { class: `badge role-${role}` }, t(`teams.role.${role}`))),
      el("p", { class: "team-card-description muted" }, team.description || t("teams.noDescription")),
      el("p", { class: "team-card-meta" },
        teamIcon("users"),
        el("span", { class: "member-count" }, t("teams.memberCount", { count: team.member_count, capacity: team.capacity })),
        full ? el("span", { class: "badge badge-muted" }, t("teams.full")) : null)));
}

function actions() {
  return [
    el("a", { href: "/teams/join", class: "btn btn-secondary" }, teamIcon("enter"), t("teams.join")),
    el("a", { href: "/teams/new", class: "btn btn-primary" }, teamIcon("plus"), t("teams.create")),
  ];
}

function emptyState() {
  return el("section", { class: "card teams-empty" },
    el("div", { class: "card-icon" }, teamIcon("users")),
    el("h2", {}, t("teams.empty.title")),
    el("p", { class: "muted" }, t("teams.empty.text")),
    el("div", { class: "row teams-empty-actions" }, actions()));
}

export async function render(root) {
  pageTitle(t("teams.title"));
  const user = currentUser();
  const header = pageHeader(t("teams.title"), t("teams.lead", { name: user?.nickname || "" }), ...actions());
  const body = el("div", {}, loading());
  root.append(el("div", { class: "container", dataset: { page: "teams" } }, header, body));

  const list = el("ul", { class: "team-grid" });
  const more = el("button", { type: "button", class: "btn btn-secondary" }, t("teams.loadMore"));
  const footer = el("div", { class: "list-footer" });
  let loaded = 0;

  async function loadPage(pageNumber) {
    const data = await api.get("teams/", { query: { page: pageNumber, page_size: PAGE_SIZE } });
    list.append(...data.items.map(teamCard));
    loaded += data.items.length;
    fill(footer, el("p", { class: "muted" }, tn("teams.count", data.total)), loaded < data.total ? more : null);
    more.dataset.next = String(pageNumber + 1);
    return data;
  }

  more.addEventListener("click", async () => {
    setBusy(more, true, t("common.loading"));
    try {
      await loadPage(Number(more.dataset.next));
    } catch (err) {
      footer.append(notice("error", teamError(err)));
    } finally {
      setBusy(more, false);
    }
  });

  try {
    const first = await loadPage(1);
    body.replaceChildren(first.total ? el("div", {}, list, footer) : emptyState());
  } catch (err) {
    const retry = () => {
      root.replaceChildren();
      render(root);
    };
    body.replaceChildren(notice("error", el("p", {}, teamError(err))),
      el("button", { type: "button", class: "btn btn-secondary", onclick: retry }, t("common.retry")));
  }
}
