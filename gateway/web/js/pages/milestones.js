/**
 * /teams/:teamId/milestones: the milestone timeline (drag to move, drag edges to resize, click to edit)
 * and the same milestones as a list by priority, with create and edit dialogs.
 */

import { api } from "../api.js";
import { el, pageTitle, setNotice, toast } from "../dom.js";
import { t } from "../i18n.js";
import { navigate } from "../router.js";
import { milestoneDialog } from "./milestones/dialog.js";
import { timeline } from "./milestones/timeline.js";
import {
  isTeamGone, loadTeam, teamError, teamFailure, teamHeader, teamIcon, teamLoading, watchTeam,
} from "../team-common.js";
import { dayOf, formatDay, todayIn } from "../format.js";
import { closeDialogs } from "../dialogs.js";
import { coalesce } from "../timing.js";

const STATUSES = ["not_started", "in_progress", "overdue", "completed"];
const FILTERS = {
  all: () => true,
  in_progress: (m) => m.status === "in_progress",
  overdue: (m) => m.status === "overdue",
  open: (m) => m.status !== "completed",
};
const ZOOMS = [14, 22, 32, 48];  // pixels per day
const PRIORITY_RANK = { critical: 0, high: 1, medium: 2, low: 3, minimal: 4 };

function byStart(a, b) {
  return a.start_date.localeCompare(b.start_date) || a.end_date.localeCompare(b.end_date) || a.id - b.id;
}

function byPriority(a, b) {
  return PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] || a.end_date.localeCompare(b.end_date) || a.id - b.id;
}

function listRow(m, open) {
  return el("li", { class: "milestone-item", dataset: { milestoneId: m.id } },
    el("div", { class: "milestone-item-main" },
      el("button", { type: "button", class: "link-button milestone-item-title", onclick: () => open(m) }, m.title),
      el("p", { class: "muted milestone-dates" },
        `${formatDay(m.start_date)} – ${formatDay(m.end_date)}`)),
    el("div", { class: "milestone-badges" },
      el("span", { class: `badge priority-badge priority-${m.priority}` }, t(`milestones.priority.${m.priority}`)),
      el("span", { class: `badge status-badge status-${m.status}` }, t(`milestones.status.${m.status}`))),
    el("div", { class: "milestone-progress" },
      el("div", { class: "progress", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100",
                  "aria-valuenow": String(m.progress), "aria-label": t("milestones.progress") },
        el("span", { class: `progress-fill status-${m.status}`, style: `width: ${m.progress}%` })),
      el("span", { class: "progress-text" }, `${m.progress}%`),
      el("span", { class: "muted small" }, t(`milestones.modes.${m.progress_mode}`))));
}

export async function render(root, { teamId }) {
  pageTitle(t("milestones.title"));
  root.append(teamLoading());
  const base = `teams/${encodeURIComponent(teamId)}/milestones/`;
  let ctx;
  let milestones;
  const fetchMilestones = async () => (await api.get(base, { query: { page_size: 100, order: "start_date" } })).items;
  try {
    [ctx, milestones] = await Promise.all([loadTeam(teamId), fetchMilestones()]);
  } catch (err) {
    teamFailure(root, err);
    return undefined;
  }
  let zoom = window.matchMedia("(max-width: 520px)").matches ? 1 : 2;
  const status = el("div", { class: "page-status", "aria-live": "polite" });
  const chart = el("div", { class: "timeline-box" });
  const list = el("div", { class: "milestone-list-box" });
  const today = () => dayOf(todayIn(ctx.team.time_zone));

  function open(m) {
    milestoneDialog({ teamId: ctx.team.id, milestone: m, today: todayIn(ctx.team.time_zone),
                      onSaved: upsert, onDeleted: (id) => { milestones = milestones.filter((x) => x.id !== id); draw(); } });
  }

  function create() {
    milestoneDialog({ teamId: ctx.team.id, today: todayIn(ctx.team.time_zone), onSaved: upsert, onDeleted: () => {} });
  }

  function upsert(saved) {
    milestones = [...milestones.filter((x) => x.id !== saved.id), saved];
    draw();
  }

  /** Save a drag: the bar keeps its new place while saving and goes back if the server refuses. */
  async function change(m, changes, bar) {
    bar.classList.add("is-saving");
    setNotice(status, "info", t("milestones.saving"));
    try {
      const saved = await api.patch(`${base}${m.id}/`, changes);
      upsert(saved);
      setNotice(status, "success", t("milestones.movedTo", { title: saved.title, start: formatDay(saved.start_date),
                                                            end: formatDay(saved.end_date) }));
    } catch (err) {
      draw();
      setNotice(status, "error", teamError(err));
      toast(teamError(err), "error");
    }
  }

  /** The first view: the closest zoom that shows every milestone and today; when none does, start at the
   *  earliest unfinished milestone (or today). Returns the first day to show. */
  function firstView(sorted) {
    const starts = sorted.map((m) => dayOf(m.start_date));
    const lo = Math.min(today(), ...starts);
    const hi = Math.max(today(), ...sorted.map((m) => dayOf(m.end_date)));
    const width = chart.clientWidth || window.innerWidth;
    const fits = ZOOMS.map((dayWidth, index) => ((hi - lo + 3) * dayWidth <= width ? index : -1)).filter((i) => i >= 0);
    if (fits.length) {
      if (!zoomChosen) setZoomButtons(Math.min(Math.max(...fits), ZOOMS.indexOf(32)));
      if ((hi - lo + 3) * ZOOMS[zoom] <= width) return lo;
    }
    const open = sorted.filter((m) => m.status !== "completed").map((m) => dayOf(m.start_date));
    return Math.min(today(), ...open);
  }

  function draw() {
    if (chart.querySelector(".timeline-bar:active, .timeline-bar.is-dragging")) {
      setTimeout(draw, 200);  // a live update waits until the bar in hand is let go: redrawing would drop it
      return;
    }
    const old = chart.querySelector(".timeline-scroller");
    const scrollLeft = old ? old.scrollLeft : null;
    const shown = milestones.filter(FILTERS[filter]);
    const sorted = [...shown].sort(byStart);
    if (!sorted.length && milestones.length) {
      chart.replaceChildren(el("div", { class: "card empty" }, el("p", {}, t("milestones.filter.none"))));
      list.replaceChildren();
      return;
    }
    if (!sorted.length) {
      chart.replaceChildren(el("div", { class: "card empty" }, el("p", {}, t("milestones.empty")),
        el("button", { type: "button", class: "btn btn-primary", onclick: create }, t("milestones.new"))));
      list.replaceChildren();
      return;
    }
    const first = scrollLeft === null ? firstView(sorted) : null;
    const scroller = timeline({ milestones: sorted, today: today(), dayWidth: ZOOMS[zoom], onChange: change, onOpen: open });
    chart.replaceChildren(scroller);
    if (first === null) scroller.scrollLeft = scrollLeft;
    else scroller.scrollLeft = Math.max(0, (first - dayOf(scroller.dataset.first) - 1) * ZOOMS[zoom]);
    list.replaceChildren(el("section", { class: "card milestone-list-card" },
      el("h2", {}, t("milestones.byPriority")),
      el("ul", { class: "milestone-list" }, [...shown].sort(byPriority).map((m) => listRow(m, open)))));
  }

  // Filters (as the reference UI had) and paging the timeline into the past or the future.
  let filter = "all";
  const filterButtons = Object.keys(FILTERS).map((name) => el("button", {
    type: "button", class: "chip", dataset: { filter: name }, "aria-pressed": String(name === filter),
    onclick: () => {
      filter = name;
      filterButtons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.filter === filter)));
      chart.querySelector(".timeline-scroller")?.remove();  // a new first view for what is shown
      draw();
    },
  }, t(`milestones.filter.${name}`)));
  const page = (direction) => {
    const scroller = chart.querySelector(".timeline-scroller");
    if (scroller) scroller.scrollBy({ left: direction * scroller.clientWidth * 0.8, behavior: "smooth" });
  };
  const earlier = el("button", { type: "button", class: "btn btn-secondary btn-sm", dataset: { nav: "earlier" },
                                 onclick: () => page(-1) }, t("milestones.earlier"));
  const later = el("button", { type: "button", class: "btn btn-secondary btn-sm", dataset: { nav: "later" },
                               onclick: () => page(1) }, t("milestones.later"));

  const zoomOut = el("button", { type: "button", class: "btn btn-secondary btn-sm", "aria-label": t("milestones.zoomOut"),
                                 title: t("milestones.zoomOut") }, "−");
  const zoomIn = el("button", { type: "button", class: "btn btn-secondary btn-sm", "aria-label": t("milestones.zoomIn"),
                                title: t("milestones.zoomIn") }, "+");
  let zoomChosen = false;
  const setZoomButtons = (value) => {
    zoom = Math.max(0, Math.min(ZOOMS.length - 1, value));
    zoomOut.disabled = zoom === 0;
    zoomIn.disabled = zoom === ZOOMS.length - 1;
  };
  const setZoom = (value) => {
    zoomChosen = true;
    setZoomButtons(value);
    draw();
  };
  zoomOut.addEventListener("click", () => setZoom(zoom - 1));
  zoomIn.addEventListener("click", () => setZoom(zoom + 1));
  const toToday = el("button", { type: "button", class: "btn btn-secondary btn-sm" }, t("milestones.today"));
  toToday.addEventListener("click", () => chart.querySelector(".timeline-scroller")?.showDay(today()));

  const refreshSoon = coalesce(async () => {
    try {
      milestones = await fetchMilestones();
      draw();
    } catch (err) {
      setNotice(status, "error", teamError(err));
    }
  });

  /** Live updates (realtime.js): milestone and todo events can change bars and progress. */
  function onTeamEvent(event) {
    if (isTeamGone(event, ctx.me?.id)) {
      toast(t("teams.gone"), "warning");
      navigate("/teams");
    } else if (event.type === "resync" || event.type.startsWith("milestone.") || event.type.startsWith("todo.")) {
      refreshSoon();
    }
  }

  pageTitle(`${t("milestones.title")} · ${ctx.team.name}`);
  root.replaceChildren(el("div", { class: "container team-page", dataset: { page: "milestones" } },
    teamHeader(ctx.team, "milestones"),
    el("div", { class: "board-toolbar" },
      el("div", {}, el("h2", { class: "board-title" }, t("milestones.title")),
        el("p", { class: "muted board-lead" }, t("milestones.lead"))),
      el("div", { class: "row" }, earlier, toToday, later, zoomOut, zoomIn,
        el("button", { type: "button", class: "btn btn-primary btn-sm", dataset: { action: "new-milestone" }, onclick: create },
          teamIcon("plus"), t("milestones.new")))),
    el("div", { class: "milestone-filters", role: "group", "aria-label": t("milestones.filter.label") }, filterButtons),
    el("ul", { class: "legend", "aria-label": t("milestones.legend") }, STATUSES.map((s) => el("li", { class: `legend-${s}` },
      el("span", { class: `legend-swatch status-${s}`, "aria-hidden": "true" }), t(`milestones.status.${s}`)))),
    status, chart, list));
  setZoomButtons(zoom);
  draw();
  const stop = watchTeam(teamId, onTeamEvent);
  return () => {
    stop();
    refreshSoon.cancel();
    closeDialogs();
  };
}
