/**
 * The week grid both schedule views draw: seven date columns × 48 half-hour rows, in the team's time
 * zone (dates and slots are local to the team, so a daylight-saving night still has 48 rows).
 *
 *   weekDays(startText)        the seven "YYYY-MM-DD" dates from a week start
 *   mondayOf(text)             the Monday of the week holding a date
 *   clock(boundary)            "HH:MM" for a slot boundary 0–48
 *   slotGrid({days, className, label, role, cell})  the grid; cell(day, slot, node) decorates each cell
 *   cellAt(grid, x, y)         the cell under a pointer position (touch moves keep the first target)
 */

import { el } from "../../dom.js";
import { DAY_MS, dayOf, formatDay, textOfDay } from "../../format.js";

export const SLOTS = 48;
export const DAYS = 7;

export function weekDays(startText) {
  const first = dayOf(startText);
  return Array.from({ length: DAYS }, (_, n) => textOfDay(first + n));
}

export function mondayOf(text) {
  return textOfDay(dayOf(text) - weekdayOf(text));
}

export function shiftDays(text, n) {
  return textOfDay(dayOf(text) + n);
}

/** 0 for Monday … 6 for Sunday. */
export function weekdayOf(text) {
  return (new Date(dayOf(text) * DAY_MS).getUTCDay() + 6) % 7;
}

export function clock(boundary) {
  const minutes = boundary * 30;
  return `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
}

/** The grid element; `cell(day, slot, node)` may decorate each cell (called once per cell). */
export function slotGrid({ days, className, label, role, cell }) {
  const grid = el("div", { class: ["slot-grid", className], role: "group", "aria-label": label });
  grid.append(el("div", { class: "corner", "aria-hidden": "true" }, ""));
  for (const day of days) {
    const weekend = weekdayOf(day) >= 5;
    grid.append(el("div", { class: ["day-head", weekend && "weekend"], "aria-hidden": "true", dataset: { date: day } },
      el("span", { class: "day-head-weekday" }, formatDay(day, { weekday: "short" })), " ",
      el("span", { class: "day-head-date" }, formatDay(day, { month: "numeric", day: "numeric" }))));
  }
  const names = new Map(days.map((day) => [day, formatDay(day, { weekday: "long", month: "long", day: "numeric" })]));
  for (let slot = 0; slot < SLOTS; slot += 1) {
    grid.append(el("div", { class: "time-label", "aria-hidden": "true" }, slot % 2 === 0 ? clock(slot) : ""));
    for (const day of days) {
      const node = el("div", { class: ["slot-cell", slot % 2 === 0 ? "hour" : "half"], role,
                               tabindex: "-1", dataset: { date: day, slot: String(slot) },
                               "aria-label": `${names.get(day)} ${clock(slot)}–${clock(slot + 1)}` });
      if (cell) cell(day, slot, node);
      grid.append(node);
    }
  }
  return grid;
}

export function cellAt(grid, x, y) {
  const target = document.elementFromPoint(x, y);
  const node = target && target.closest ? target.closest(".slot-cell") : null;
  return node && grid.contains(node) ? node : null;
}

/** Move keyboard focus across cells with the arrow keys (one tab stop for the whole grid). */
export function rovingFocus(grid, days) {
  const cells = grid.querySelectorAll(".slot-cell");
  let current = cells[18 * DAYS] || cells[0];  // 09:00 on the first day
  current.tabIndex = 0;
  const at = (col, slot) => cells[slot * DAYS + col];
  grid.addEventListener("focusin", (event) => {
    const node = event.target.closest(".slot-cell");
    if (!node || node === current) return;
    current.tabIndex = -1;
    current = node;
    current.tabIndex = 0;
  });
  grid.addEventListener("keydown", (event) => {
    const node = event.target.closest(".slot-cell");
    if (!node) return;
    const col = days.indexOf(node.dataset.date);
    const slot = Number(node.dataset.slot);
    const moves = { ArrowUp: [0, -1], ArrowDown: [0, 1], ArrowLeft: [-1, 0], ArrowRight: [1, 0] };
    const move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    const next = at(Math.min(DAYS - 1, Math.max(0, col + move[0])), Math.min(SLOTS - 1, Math.max(0, slot + move[1])));
    if (next) next.focus();
  });
}
