/**
 * The milestone timeline: one bar per milestone on a date axis, coloured by status, filled by progress.
 *
 *   timeline({milestones, today, dayWidth, onChange, onOpen}) → element
 *
 * Dragging a bar moves it, dragging its edges resizes it (whole days; pointer events, so touch works);
 * on release onChange(milestone, {start_date?, end_date?}, bar) is called, which saves and redraws (or
 * reverts). A click without a drag, or Enter on a focused bar, calls onOpen(milestone).
 *
 * The cost of drawing does not depend on the span: the axis (months, days) and the weekend shading are
 * drawn only for the days around the visible part, again as it scrolls; the rest is one wide, empty
 * canvas. Milestones far outside the API's date range are clipped to MAX_RANGE_DAYS around today.
 */

import { el } from "../../dom.js";
import { t } from "../../i18n.js";
import { dayOf, formatDay, textOfDay } from "../../format.js";

const CLICK_SLOP_PX = 4;
const MARGIN_BEFORE_DAYS = 7;
const MARGIN_AFTER_DAYS = 21;
const MIN_SPAN_DAYS = 42;
const MAX_RANGE_DAYS = 50 * 366; // either side of today: older data with absurd dates stays drawable
const WINDOW_MIN_DAYS = 90; // drawn beyond each edge of the visible part

function range(milestones, today) {
  let first = today;
  let last = today;
  for (const m of milestones) {
    first = Math.min(first, dayOf(m.start_date));
    last = Math.max(last, dayOf(m.end_date));
  }
  first = Math.max(first - MARGIN_BEFORE_DAYS, today - MAX_RANGE_DAYS);
  last = Math.min(last + MARGIN_AFTER_DAYS, today + MAX_RANGE_DAYS);
  return { first, last: Math.max(last, first + MIN_SPAN_DAYS) };
}

function spacer(days, dayWidth) {
  return el("span", { class: "axis-spacer", style: `flex: none; width: ${days * dayWidth}px` });
}

/** The axis cells of the days from..to (inclusive) only, after a spacer for the days before them. */
function axisCells(first, from, to, dayWidth, today) {
  const months = [spacer(from - first, dayWidth)];
  const dayCells = [spacer(from - first, dayWidth)];
  const last = to;
  for (let day = from; day <= to; day += 1) {
    const date = new Date(day * 86400000);
    const dom = date.getUTCDate();
    const weekend = [0, 6].includes(date.getUTCDay());
    if (day === from || dom === 1) {
      const monthEnd = Math.min(last, day + new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate() - dom);
      months.push(el("span", { class: "axis-month", style: `width: ${(monthEnd - day + 1) * dayWidth}px` },
        el("span", { class: "axis-month-label" }, formatDay(day, { year: "numeric", month: "short" }))));
    }
    const label = dayWidth >= 22 || date.getUTCDay() === 1 ? String(dom) : "";
    dayCells.push(el("span", { class: ["axis-day", weekend ? "weekend" : "", day === today ? "today" : ""],
                               style: `width: ${dayWidth}px` }, label));
  }
  return { months, dayCells };
}

function weekendShades(first, from, to, dayWidth) {
  const shade = [];
  for (let day = from; day <= to; day += 1) {
    const weekday = new Date(day * 86400000).getUTCDay();
    if (weekday === 0 || weekday === 6) {
      shade.push(el("span", { class: "grid-weekend", style: `left: ${(day - first) * dayWidth}px; width: ${dayWidth}px` }));
    }
  }
  return shade;
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
  const months = el("div", { class: "axis-months" });
  const days = el("div", { class: "axis-days" });
  const shades = el("div", { class: "grid-weekends" });
  const canvas = el("div", { class: "timeline-canvas", style: `width: ${width}px; --day: ${dayWidth}px` },
    el("div", { class: "timeline-axis", "aria-hidden": "true" }, months, days),
    el("div", { class: "timeline-body" },
      el("div", { class: "timeline-grid", "aria-hidden": "true" }, shades,
        el("span", { class: "grid-today", style: `left: ${(today - first) * dayWidth}px; width: ${dayWidth}px`,
                     title: t("milestones.today") })),
      el("div", { class: "timeline-rows" }, rows)));
  const scroller = el("div", { class: "timeline-scroller", tabindex: "0", "aria-label": t("milestones.timelineLabel") },
    canvas);
  scroller.dataset.first = textOfDay(first);
  let drawn = null;
  /** Draw the axis and the shading around the visible days (a bounded number of elements). */
  const paint = () => {
    const visible = Math.ceil((scroller.clientWidth || 1600) / dayWidth);
    const margin = Math.max(WINDOW_MIN_DAYS, visible);
    const left = first + Math.floor(scroller.scrollLeft / dayWidth);
    const from = Math.max(first, left - margin);
    const to = Math.min(last, left + visible + margin);
    if (drawn && from >= drawn.from && to <= drawn.to) return;
    const wideFrom = Math.max(first, from - margin);
    const wideTo = Math.min(last, to + margin);
    drawn = { from: wideFrom, to: wideTo };
    const cells = axisCells(first, wideFrom, wideTo, dayWidth, today);
    months.replaceChildren(...cells.months);
    days.replaceChildren(...cells.dayCells);
    shades.replaceChildren(...weekendShades(first, wideFrom, wideTo, dayWidth));
  };
  let pending = false;
  scroller.addEventListener("scroll", () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      paint();
    });
  });
  paint();
  /** Scroll so today (or a day) sits near the left edge. */
  scroller.showDay = (day) => {
    scroller.scrollLeft = Math.max(0, (day - first - 3) * dayWidth);
    paint();
  };
  return scroller;
}
