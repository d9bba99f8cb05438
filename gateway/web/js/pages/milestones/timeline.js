/**
 * The milestone timeline: one bar per milestone on a date axis, coloured by status, filled by progress.
 *
 *   timeline({milestones, today, dayWidth, onChange, onOpen}) → element
 *
 * Dragging a bar moves it, dragging its edges resizes it (whole days; pointer events, so touch works);
 * on release onChange(milestone, {start_date?, end_date?}, bar) is called, which saves and redraws (or
 * reverts). A click without a drag, or Enter on a focused bar, calls onOpen(milestone).
 */

import { el } from "../../dom.js";
import { t } from "../../i18n.js";
import { dayOf, formatDay, textOfDay } from "../../format.js";

const CLICK_SLOP_PX = 4;
const MARGIN_BEFORE_DAYS = 7;
const MARGIN_AFTER_DAYS = 21;
const MIN_SPAN_DAYS = 42;

function range(milestones, today) {
  const days = milestones.flatMap((m) => [dayOf(m.start_date), dayOf(m.end_date)]);
  const first = Math.min(today, ...days) - MARGIN_BEFORE_DAYS;
  const last = Math.max(today, ...days) + MARGIN_AFTER_DAYS;
  return { first, last: Math.max(last, first + MIN_SPAN_DAYS) };
}

function axis(first, last, dayWidth, today) {
  const months = [];
  const dayCells = [];
  for (let day = first; day <= last; day += 1) {
    const date = new Date(day * 86400000);
    const dom = date.getUTCDate();
    const weekend = [0, 6].includes(date.getUTCDay());
    if (day === first || dom === 1) {
      const monthEnd = Math.min(last, day + new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate() - dom);
      months.push(el("span", { class: "axis-month", style: `width: ${(monthEnd - day + 1) * dayWidth}px` },
        el("span", { class: "axis-month-label" }, formatDay(day, { year: "numeric", month: "short" }))));
    }
    const label = dayWidth >= 22 || date.getUTCDay() === 1 ? String(dom) : "";
    dayCells.push(el("span", { class: ["axis-day", weekend ? "weekend" : "", day === today ? "today" : ""],
                               style: `width: ${dayWidth}px` }, label));
  }
  return el("div", { class: "timeline-axis", "aria-hidden": "true" },
    el("div", { class: "axis-months" }, months), el("div", { class: "axis-days" }, dayCells));
}

function barOf(m, first, dayWidth, handlers) {
  const start = dayOf(m.start_date);
  const end = dayOf(m.end_date);
  const label = `${m.title} · ${m.progress}%`;
  const bar = el("div", {
    class: ["timeline-bar", `status-${m.status}`, `priority-${m.priority}`], tabindex: "0", role: "button",
    dataset: { milestoneId: m.id, progress: m.progress, status: m.status },
    style: `left: ${(start - first) * dayWidth}px; width: ${(end - start + 1) * dayWidth}px`,
    "aria-label": t("milestones.barLabel", { title: m.title, start: formatDay(start), end: formatDay(end),
                                             progress: m.progress, status: t(`milestones.status.${m.status}`) }),
  },
  el("span", { class: "bar-fill", style: `width: ${m.progress}%` }),
  el("span", { class: "bar-handle bar-handle-start", dataset: { edge: "start" }, title: t("milestones.resizeHint") }),
  el("span", { class: "bar-label" }, el("span", { class: "bar-title" }, m.title),
    el("span", { class: "bar-progress" }, ` ${m.progress}%`)),
  el("span", { class: "bar-handle bar-handle-end", dataset: { edge: "end" }, title: t("milestones.resizeHint") }),
  el("span", { class: "bar-tip", hidden: true }));
  bar.title = label;
  bar.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      handlers.onOpen(m);
    }
  });
  bar.addEventListener("pointerdown", (event) => startDrag(event, bar, m, first, dayWidth, handlers));
  return bar;
}

function startDrag(event, bar, m, first, dayWidth, { onChange, onOpen }) {
  if ((event.pointerType === "mouse" && event.button !== 0) || bar.classList.contains("is-saving")) return;
  event.preventDefault();
  const edge = event.target.closest(".bar-handle")?.dataset.edge || "move";
  const start = dayOf(m.start_date);
  const end = dayOf(m.end_date);
  const x0 = event.clientX;
  const tip = bar.querySelector(".bar-tip");
  let moved = false;
  let next = { start, end };
  bar.setPointerCapture(event.pointerId);

  const onMove = (e) => {
    if (!moved && Math.abs(e.clientX - x0) < CLICK_SLOP_PX) return;
    moved = true;
    bar.classList.add("is-dragging");
    const delta = Math.round((e.clientX - x0) / dayWidth);
    if (edge === "start") next = { start: Math.min(start + delta, end), end };
    else if (edge === "end") next = { start, end: Math.max(end + delta, start) };
    else next = { start: start + delta, end: end + delta };
    bar.style.left = `${(next.start - first) * dayWidth}px`;
    bar.style.width = `${(next.end - next.start + 1) * dayWidth}px`;
    tip.hidden = false;
    tip.textContent = `${formatDay(next.start, { month: "short", day: "numeric" })} – ${formatDay(next.end, { month: "short", day: "numeric" })}`;
  };
  const onUp = () => {
    bar.removeEventListener("pointermove", onMove);
    bar.removeEventListener("pointerup", onUp);
    bar.removeEventListener("pointercancel", onCancel);
    bar.classList.remove("is-dragging");
    tip.hidden = true;
    if (!moved) {
      onOpen(m);
      return;
    }
    const changes = {};
    if (next.start !== start) changes.start_date = textOfDay(next.start);
    if (next.end !== end) changes.end_date = textOfDay(next.end);
    if (Object.keys(changes).length) onChange(m, changes, bar);
  };
  const onCancel = () => {
    bar.removeEventListener("pointermove", onMove);
    bar.removeEventListener("pointerup", onUp);
    bar.removeEventListener("pointercancel", onCancel);
    bar.classList.remove("is-dragging");
    tip.hidden = true;
    bar.style.left = `${(start - first) * dayWidth}px`;
    bar.style.width = `${(end - start + 1) * dayWidth}px`;
  };
  bar.addEventListener("pointermove", onMove);
  bar.addEventListener("pointerup", onUp);
  bar.addEventListener("pointercancel", onCancel);
}

export function timeline({ milestones, today, dayWidth, onChange, onOpen }) {
  const { first, last } = range(milestones, today);
  const width = (last - first + 1) * dayWidth;
  const rows = milestones.map((m) => el("div", { class: "timeline-row" }, barOf(m, first, dayWidth, { onChange, onOpen })));
  const shade = [];
  for (let day = first; day <= last; day += 1) {
    const weekday = new Date(day * 86400000).getUTCDay();
    if (weekday === 0 || weekday === 6) {
      shade.push(el("span", { class: "grid-weekend", style: `left: ${(day - first) * dayWidth}px; width: ${dayWidth}px` }));
    }
  }
  const canvas = el("div", { class: "timeline-canvas", style: `width: ${width}px; --day: ${dayWidth}px` },
    axis(first, last, dayWidth, today),
    el("div", { class: "timeline-body" },
      el("div", { class: "timeline-grid", "aria-hidden": "true" }, shade,
        el("span", { class: "grid-today", style: `left: ${(today - first) * dayWidth}px; width: ${dayWidth}px`,
                     title: t("milestones.today") })),
      el("div", { class: "timeline-rows" }, rows)));
  const scroller = el("div", { class: "timeline-scroller", tabindex: "0", "aria-label": t("milestones.timelineLabel") },
    canvas);
  scroller.dataset.first = textOfDay(first);
  /** Scroll so today (or a day) sits near the left edge. */
  scroller.showDay = (day) => {
    scroller.scrollLeft = Math.max(0, (day - first - 3) * dayWidth);
  };
  return scroller;
}
