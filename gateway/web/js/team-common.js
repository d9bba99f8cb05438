/**
 * What the team pages share (dashboard, todos, milestones, share board, schedule, mind maps) and only
 * they need. General helpers live elsewhere: dom.js (elements, fields), dialogs.js (modal, confirm),
 * timing.js (coalesce), format.js (dates and sizes). See docs/frontend.md for where a helper goes.
 *
 *
 *   loadTeam(teamId)            → {team, members, me, isHost, nameOf(userId)} (team + members, in parallel)
 *   teamHeader(team, active)    the team's title, role badge and sub-navigation ("dashboard", "todos",
 *                               "milestones", "board", "schedule", "mindmaps")
 *   teamFailure(root, err)      the page shown when a team cannot be loaded (404 → "not your team")
 *   localise(err)               an ApiError whose message is said in the UI's language when the code is known
 *   teamError(err)              the sentence to show for a failure of the teams API
 *   watchTeam(teamId, handler)  live updates: handler({type, data}) for the team's events (see below);
 *                               isTeamGone(event, myId) tells the events after which I am out of the team
 */

import { ApiError, api, describeError } from "./api.js";
import { el, icon, loading, notice, pageHeader } from "./dom.js";
import { has, t } from "./i18n.js";
import { connectionState, onStateChange, subscribe } from "./realtime.js";
import { currentUser } from "./session.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const TEAM_ICONS = {
  home: "M4 11l8-7 8 7M6 9.5V20h12V9.5M10 20v-6h4v6",
  copy: "M9 9h10v11H9zM5 15V4h10",
  grip: "M9 6h.01M15 6h.01M9 12h.01M15 12h.01M9 18h.01M15 18h.01",
  plus: "M12 5v14M5 12h14",
  search: "M11 4a7 7 0 1 0 0 14 7 7 0 0 0 0-14zM20 20l-4-4",
  clip: "M20 11.5l-8 8a5 5 0 0 1-7-7l8.5-8.5a3.3 3.3 0 0 1 4.7 4.7L9.7 17.2a1.7 1.7 0 0 1-2.4-2.4L15 7",
  download: "M12 4v11M7 10l5 5 5-5M5 20h14",
  more: "M5 12h.01M12 12h.01M19 12h.01",
  users: "M9 11a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7zM2.5 20c0-3.5 3-5.5 6.5-5.5s6.5 2 6.5 5.5M16 4.5a3.5 3.5 0 0 1 0 6.5M18 14.8c2 .6 3.5 2.3 3.5 5.2",
  key: "M7.5 12a3.5 3.5 0 1 0 0 7 3.5 3.5 0 0 0 0-7zM10 13l9-9M15 8l2 2M17.5 5.5l2 2",
  enter: "M14 4h5v16h-5M10 8l4 4-4 4M14 12H4",
};

/** A 24×24 line icon: the shell's set (dom.js icon()) plus the few the team pages add. */
export function teamIcon(name, className = "icon") {
  if (!TEAM_ICONS[name]) return icon(name, className);
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", className);
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute("d", TEAM_ICONS[name]);
  svg.append(path);
  return svg;
}

/** The team, its members, and who I am in it. */
export async function loadTeam(teamId) {
  const [team, members] = await Promise.all([
    api.get(`teams/${encodeURIComponent(teamId)}/`),
    api.get(`teams/${encodeURIComponent(teamId)}/members/`, { query: { page_size: 100 } }),
  ]);
  const me = currentUser();
  const names = new Map(members.items.map((m) => [m.user_id, m.nickname || t("teams.formerMember")]));
  return {
    team,
    members: members.items,
    me,
    isHost: team.my_role === "host",
    nameOf: (userId) => (userId === null || userId === undefined ? "" : names.get(userId) || t("teams.formerMember")),
  };
}

const SECTIONS = [
  ["dashboard", "", "home"],
  ["todos", "/todos", "todo"],
  ["milestones", "/milestones", "flag"],
  ["board", "/board", "board"],
  ["schedule", "/schedule", "calendar"],
  ["mindmaps", "/mindmaps", "mindmap"],
];

/** The team's sub-navigation; `active` names the current section. */
export function teamNav(teamId, active) {
  const nav = el("nav", { class: "team-nav", "aria-label": t("teams.nav.label") },
    el("ul", {}, SECTIONS.map(([name, suffix, iconName]) => el("li", {},
      el("a", { href: `/teams/${teamId}${suffix}`, class: "team-nav-link", dataset: { section: name },
                "aria-current": name === active ? "page" : null },
        teamIcon(iconName), el("span", {}, t(`teams.nav.${name}`)))))));
  requestAnimationFrame(() => {  // on a narrow screen, scroll the current section into view
    const current = nav.querySelector("[aria-current=page]");
    if (current && nav.scrollWidth > nav.clientWidth) nav.scrollLeft = Math.max(0, current.offsetLeft - 24);
  });
  return nav;
}

/** The heading of every team page: breadcrumb, name, my role, sub-navigation. */
export function teamHeader(team, active, ...actions) {
  const role = team.my_role === "host" ? "host" : "member";
  return el("div", { class: "team-top" },
    el("p", { class: "breadcrumb" }, el("a", { href: "/teams" }, t("teams.backToTeams"))),
    el("div", { class: "team-title-row" },
      el("h1", { class: "team-title" }, team.name),
      el("span", { class: `badge role-${role}` }, t(`teams.role.${role}`)),
      actions.length ? el("div", { class: "page-actions" }, actions) : null),
    teamNav(team.id, active));
}

/** Replace a page with the reason its team could not be shown. */
export function teamFailure(root, err) {
  const missing = err instanceof ApiError && err.status === 404;
  root.replaceChildren(el("div", { class: "container medium" },
    pageHeader(missing ? t("teams.notFound.title") : t("teams.loadFailed")),
    notice(missing ? "warning" : "error", el("p", {}, missing ? t("teams.notFound.text") : teamError(err))),
    el("p", {}, el("a", { href: "/teams", class: "btn btn-secondary" }, t("teams.backToTeams")))));
}

/** The sentence for a failure of the teams API, in the UI's language where the code is known. */
export function teamError(err) {
  if (err instanceof ApiError) {
    if (has(`teams.errors.${err.code}`)) return t(`teams.errors.${err.code}`);
    if (!has(`errors.${err.code}`)) {
      if (err.status === 403) return t("teams.errors.permission_denied");
      if (err.status === 404) return t("teams.errors.not_found");
      if (err.status === 409) return err.message || t("teams.errors.conflict");
    }
  }
  return describeError(err);
}

/** The same error, its message replaced by the localised sentence (for onSubmit's form notice). */
export function localise(err) {
  if (err instanceof ApiError && (has(`teams.errors.${err.code}`) || [403, 404].includes(err.status))) {
    err.message = teamError(err);
  }
  return err;
}

/** Run an API call; a failure comes back with a localised message (for onSubmit actions). */
export async function attempt(promise) {
  try {
    return await promise;
  } catch (err) {
    throw localise(err);
  }
}

/**
 * Live updates for a team page, from channel team.<id> (js/realtime.js). handler(event) gets
 *   {type, data}                        a team event: todo.*, milestone.*, member.*, post.*, team.*
 *   {type: "resync"}                    the socket came back after a break: events may have been missed
 *   {type: "ended", data: {reason}}     the server ended the subscription ("membership_ended", "deleted")
 * Returns the function that stops listening.
 */
export function watchTeam(teamId, handler) {
  let wasOpen = connectionState() === "open";
  let missed = false;
  const stopState = onStateChange((state) => {
    if (state === "open") {
      if (missed) handler({ type: "resync", data: {} });
      wasOpen = true;
      missed = false;
    } else if (wasOpen) {
      missed = true;
    }
  });
  const stop = subscribe(`team.${teamId}`, (frame) => {
    if (frame && typeof frame.type === "string") handler({ type: frame.type, data: frame.data || {} });
  }, {
    onEnd: (reason) => {
      if (reason !== "forbidden") handler({ type: "ended", data: { reason } });
    },
  });
  return () => {
    stopState();
    stop();
  };
}

/** Whether an event means I am no longer in the team (disbanded, removed, left elsewhere). */
export function isTeamGone(event, myId) {
  if (event.type === "team.disbanded" || event.type === "ended") return true;
  return (event.type === "member.removed" || event.type === "member.left") && event.data.user_id === myId;
}

/** A loading block to show while a team page fetches. */
export function teamLoading() {
  return el("div", { class: "container" }, loading());
}
