/**
 * /teams/:teamId/schedule — find a time to meet. Two tabs over one week (in the team's time zone):
 * "My week" (paint when I am free, quick fills, CSV) and "Team" (heat-map, suggestions, .ics).
 * ?view=team|mine and ?week=YYYY-MM-DD keep the place across reloads. Unsaved painting is guarded:
 * leaving the page, changing week or tab asks first.
 */

import { api } from "../api.js";
import { el, pageTitle } from "../dom.js";
import { t } from "../i18n.js";
import { teamFailure, teamHeader, teamLoading } from "../team-common.js";
import { weekEditor } from "./schedule/editor.js";
import { formatDay, todayIn } from "../format.js";
import { mondayOf, shiftDays, weekDays } from "./schedule/grid.js";
import { heatMap } from "./schedule/heatmap.js";
import { suggestionsPanel } from "./schedule/suggestions.js";
import { meetingsPanel } from "./schedule/meetings.js";
import { currentUser } from "../session.js";

const STYLESHEET = "/css/schedule.css";
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function ensureStyles() {
  if (document.querySelector(`link[href="${STYLESHEET}"]`)) return;
  document.head.append(el("link", { rel: "stylesheet", href: STYLESHEET }));
}

export async function render(root, params) {
  ensureStyles();
  const teamId = params.teamId;
  root.replaceChildren(teamLoading());
  let team;
  try {
    team = await api.get(`teams/${encodeURIComponent(teamId)}/`);
  } catch (err) {
    teamFailure(root, err);
    return undefined;
  }
  pageTitle(t("schedule.title"));
  const asked = params.query.get("week");
  let week = asked && DATE.test(asked) ? mondayOf(asked) : mondayOf(todayIn(team.time_zone));
  let tab = params.query.get("view") === "team" ? "team" : "mine";
  let editor = null;
  let meetings = null;
  let loadCount = 0;

  const dirty = () => Boolean(editor && editor.dirty());
  const mayLeave = () => !dirty() || window.confirm(t("schedule.editor.leaveConfirm"));
  const label = el("span", { class: "week-label", dataset: { week } });
  const content = el("div", { class: "schedule-content" });
  const tabs = ["mine", "team"].map((name) => el("button", {
    type: "button", role: "tab", id: `tab-${name}`, "aria-controls": "schedule-panel", dataset: { tab: name },
    onclick: () => { if (name !== tab && mayLeave()) { tab = name; load(); } },
  }, t(`schedule.tab.${name}`)));
  const goTo = (next) => { if (mayLeave()) { week = next; load(); } };
  const toolbar = el("div", { class: "schedule-toolbar" },
    el("div", { class: "schedule-tabs", role: "tablist", "aria-label": t("schedule.tab.label") }, tabs),
    el("div", { class: "week-nav" },
      el("button", { type: "button", class: "btn btn-secondary btn-sm", dataset: { nav: "previous" },
                     onclick: () => goTo(shiftDays(week, -7)) }, t("schedule.week.previous")),
      label,
      el("button", { type: "button", class: "btn btn-ghost btn-sm", dataset: { nav: "this" },
                     onclick: () => goTo(mondayOf(todayIn(team.time_zone))) }, t("schedule.week.this")),
      el("button", { type: "button", class: "btn btn-secondary btn-sm", dataset: { nav: "next" },
                     onclick: () => goTo(shiftDays(week, 7)) }, t("schedule.week.next"))));
  root.replaceChildren(el("div", { class: "container" },
    teamHeader(team, "schedule"), toolbar,
    el("p", { class: "zone-note" }, t("schedule.zoneNote", { zone: team.time_zone })),
    el("div", { id: "schedule-panel", role: "tabpanel" }, content)));

  async function load() {
    const count = ++loadCount;
    const days = weekDays(week);
    label.dataset.week = week;
    label.textContent = t("schedule.week.range", { first: formatDay(days[0]), last: formatDay(days[6]) });
    tabs.forEach((button) => button.setAttribute("aria-selected", String(button.dataset.tab === tab)));
    history.replaceState(null, "", `${location.pathname}?view=${tab}&week=${week}`);
    if (editor) editor.destroy();
    editor = null;
    if (meetings) meetings.destroy();
    meetings = null;
    content.dataset.state = "loading";
    content.replaceChildren(teamLoading());
    const base = `teams/${encodeURIComponent(teamId)}/schedules/`;
    try {
      if (tab === "mine") {
        const mine = await api.get(`${base}me/`, { query: { week } });
        if (count !== loadCount) return;
        editor = weekEditor({ teamId, week: mine, days, onImported: load });
        content.replaceChildren(editor.node);
      } else {
        const view = await api.get(base, { query: { start: days[0], end: days[6] } });
        if (count !== loadCount) return;
        const map = heatMap({ view, days });
        meetings = meetingsPanel({ teamId, timeZone: view.time_zone, team, me: currentUser() || {} });
        const panel = suggestionsPanel({ teamId, days, memberCount: view.member_count, timeZone: view.time_zone,
                                         onPick: map.highlight, onBook: meetings.book });
        content.replaceChildren(el("div", { class: "schedule-layout with-side" }, map.node,
          el("div", { class: "schedule-side" }, meetings.node, panel.node)));
        panel.find();
      }
      content.dataset.state = "ready";
    } catch (err) {
      if (count !== loadCount) return;
      teamFailure(content, err);
      content.dataset.state = "error";
    }
  }

  const onBeforeUnload = (event) => {
    if (!dirty()) return;
    event.preventDefault();
    event.returnValue = "";
  };
  const onLinkClick = (event) => {
    const link = event.target.closest && event.target.closest("a[href]");
    if (!link || link.hasAttribute("download") || !dirty()) return;
    if (!window.confirm(t("schedule.editor.leaveConfirm"))) {
      event.preventDefault();
      event.stopPropagation();
    } else {
      editor = null;  // leaving on purpose: no second question from beforeunload
    }
  };
  window.addEventListener("beforeunload", onBeforeUnload);
  document.addEventListener("click", onLinkClick, true);
  await load();
  return () => {
    window.removeEventListener("beforeunload", onBeforeUnload);
    document.removeEventListener("click", onLinkClick, true);
    if (editor) editor.destroy();
    if (meetings) meetings.destroy();
  };
}
