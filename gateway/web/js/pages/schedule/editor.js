/**
 * My week: paint the half-hours I am free. Press on a cell and drag to paint a block (or to erase one,
 * when the first cell was already painted) — mouse, pen and touch alike (pointer events). Quick fills,
 * save, CSV import and export.
 *
 *   weekEditor({teamId, week, days, onImported}) → {node, dirty(), destroy()}
 *   week: the API's {"week_start", "slots": {"YYYY-MM-DD": [0..47]}}; days: its seven dates;
 *   onImported(): called after a CSV import (the page reloads the week)
 */

import { api, describeError, ApiError } from "../../api.js";
import { el, setBusy, toast } from "../../dom.js";
import { t } from "../../i18n.js";
import { DAYS, SLOTS, cellAt, rovingFocus, shiftDays, slotGrid, weekdayOf } from "./grid.js";

const FILLS = {
  all: { label: "schedule.fill.all", apply: (free) => free.fill(1) },
  working: { label: "schedule.fill.working", apply: (free, days) => fillRange(free, days, [0, 1, 2, 3, 4], 18, 36) },
  weekends: { label: "schedule.fill.weekends", apply: (free, days) => {
    free.fill(0);
    fillRange(free, days, [5, 6], 18, 36);
  } },
  lastWeek: { label: "schedule.fill.lastWeek", apply: copyLastWeek },
  evenings: { label: "schedule.fill.evenings", apply: (free, days) => fillRange(free, days, [0, 1, 2, 3, 4, 5, 6], 36, 44) },
  weekdays: { label: "schedule.fill.weekdays", apply: copyMondayToWeekdays },
  clear: { label: "schedule.fill.clear", apply: (free) => free.fill(0) },
};

function fillRange(free, days, weekdays, first, end) {
  days.forEach((day, col) => {
    if (!weekdays.includes(weekdayOf(day))) return;
    for (let slot = first; slot < end; slot += 1) free[slot * DAYS + col] = 1;
  });
}

function copyMondayToWeekdays(free, days) {
  const monday = days.findIndex((day) => weekdayOf(day) === 0);
  if (monday < 0) return;
  days.forEach((day, col) => {
    if (col === monday || weekdayOf(day) > 4) return;
    for (let slot = 0; slot < SLOTS; slot += 1) free[slot * DAYS + col] = free[slot * DAYS + monday];
  });
}

/** The week before, as saved: the same weekdays and half-hours (replaces what is painted now). */
async function copyLastWeek(free, days, base) {
  const before = await api.get(base, { query: { week: shiftDays(days[0], -7) } });
  free.fill(0);
  days.forEach((day, col) => {
    for (const slot of before.slots[shiftDays(day, -7)] || []) free[slot * DAYS + col] = 1;
  });
}

function stateOf(week, days) {
  const free = new Uint8Array(SLOTS * DAYS);
  days.forEach((day, col) => {
    for (const slot of week.slots[day] || []) free[slot * DAYS + col] = 1;
  });
  return free;
}

function bodyOf(free, days, weekStart) {
  const slots = {};
  days.forEach((day, col) => {
    const mine = [];
    for (let slot = 0; slot < SLOTS; slot += 1) if (free[slot * DAYS + col]) mine.push(slot);
    if (mine.length) slots[day] = mine;
  });
  return { week_start: weekStart, slots };
}

export function weekEditor({ teamId, week, days, onImported }) {
  const base = `teams/${encodeURIComponent(teamId)}/schedules/me/`;
  let saved = stateOf(week, days);
  const free = saved.slice();
  let drag = null;  // {anchor: [col, slot], mode: 0|1, before: Uint8Array}

  const grid = slotGrid({ days, className: "editor", label: t("schedule.editor.gridLabel"), role: "checkbox" });
  const cells = [...grid.querySelectorAll(".slot-cell")];
  const state = el("span", { class: "dirty-state", role: "status", "aria-live": "polite" });
  const save = el("button", { type: "button", class: "btn btn-primary", dataset: { action: "save" } },
    t("schedule.editor.save"));

  const isDirty = () => saved.some((value, i) => value !== free[i]);
  function paint() {
    cells.forEach((node, i) => {
      node.setAttribute("aria-checked", free[i] ? "true" : "false");
      node.classList.toggle("changed", free[i] !== saved[i]);
    });
    const dirty = isDirty();
    state.dataset.dirty = String(dirty);
    state.textContent = dirty ? t("schedule.editor.unsaved") : t("schedule.editor.allSaved");
    save.disabled = !dirty;
  }
  const position = (node) => [days.indexOf(node.dataset.date), Number(node.dataset.slot)];

  function stretch(node) {
    const [col, slot] = position(node);
    const [c0, s0] = drag.anchor;
    free.set(drag.before);
    for (let c = Math.min(col, c0); c <= Math.max(col, c0); c += 1) {
      for (let s = Math.min(slot, s0); s <= Math.max(slot, s0); s += 1) free[s * DAYS + c] = drag.mode;
    }
    paint();
  }
  function onDown(event) {
    const node = event.target.closest(".slot-cell");
    if (!node || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    const [col, slot] = position(node);
    drag = { anchor: [col, slot], mode: free[slot * DAYS + col] ? 0 : 1, before: free.slice() };
    grid.classList.add("painting");
    stretch(node);
  }
  function onMove(event) {
    if (!drag) return;
    const node = cellAt(grid, event.clientX, event.clientY);
    if (node) stretch(node);
  }
  function onUp() {
    drag = null;
    grid.classList.remove("painting");
  }
  function onCancel() {
    if (drag) free.set(drag.before);
    onUp();
    paint();
  }
  grid.addEventListener("pointerdown", onDown);
  grid.addEventListener("pointermove", onMove);
  window.addEventListener("pointerup", onUp);
  grid.addEventListener("pointercancel", onCancel);
  grid.addEventListener("keydown", (event) => {
    const node = event.target.closest(".slot-cell");
    if (!node || (event.key !== " " && event.key !== "Enter")) return;
    event.preventDefault();
    const [col, slot] = position(node);
    free[slot * DAYS + col] ^= 1;
    paint();
  });
  rovingFocus(grid, days);

  save.addEventListener("click", async () => {
    setBusy(save, true, t("common.saving"));
    try {
      const stored = await api.put(base, bodyOf(free, days, days[0]));
      saved = stateOf(stored, days);
      toast(t("schedule.editor.saved"), "success");
    } catch (err) {
      toast(describeError(err), "error");
    } finally {
      setBusy(save, false);
      paint();
    }
  });
  const fills = el("div", { class: "fills", role: "group", "aria-label": t("schedule.fill.label") },
    Object.entries(FILLS).map(([name, fill]) => el("button", {
      type: "button", class: "btn btn-secondary btn-sm", dataset: { fill: name },
      onclick: async (event) => {
        const button = event.currentTarget;
        setBusy(button, true, t(fill.label));
        try {
          await fill.apply(free, days, base);
        } catch (err) {
          toast(describeError(err), "error");
        } finally {
          setBusy(button, false);
          paint();
        }
      },
    }, t(fill.label))));
  const node = el("section", { class: "card editor-card", "aria-labelledby": "my-week-title" },
    el("h2", { id: "my-week-title" }, t("schedule.editor.title")),
    el("p", { class: "muted" }, t("schedule.editor.help")),
    el("div", { class: "editor-fills" }, fills),
    el("div", { class: "editor-bar" }, state, el("span", { class: "spacer" }), save),
    el("div", { class: "slot-grid-wrap" }, grid),
    csvTools({ teamId, isDirty, onImported }));
  paint();
  return {
    node,
    dirty: isDirty,
    destroy() {
      window.removeEventListener("pointerup", onUp);
    },
  };
}

function csvTools({ teamId, isDirty, onImported }) {
  const base = `teams/${encodeURIComponent(teamId)}/schedules/me/`;
  const input = el("input", { type: "file", accept: ".csv,text/csv", class: "visually-hidden", id: "csv-file",
                              "aria-label": t("schedule.csv.import"), tabindex: "-1", dataset: { action: "import" } });
  const pick = el("button", { type: "button", class: "btn btn-ghost btn-sm" }, t("schedule.csv.import"));
  pick.addEventListener("click", () => {
    if (isDirty() && !window.confirm(t("schedule.csv.importUnsaved"))) return;
    input.click();
  });
  input.addEventListener("change", async () => {
    const file = input.files && input.files[0];
    if (!file) return;
    const form = new FormData();
    form.append("file", file);
    setBusy(pick, true, t("schedule.csv.importing"));
    try {
      const result = await api.upload(`${base}import/`, form);
      toast(t("schedule.csv.imported", { n: result.imported_dates, first: result.first_date, last: result.last_date }),
        "success");
      onImported();
    } catch (err) {
      const bad = err instanceof ApiError ? err.details.find((d) => d && d.line) : null;
      toast(bad ? t("schedule.csv.badLine", { line: bad.line, reason: bad.message }) : describeError(err), "error");
    } finally {
      setBusy(pick, false);
      input.value = "";
    }
  });
  return el("div", { class: "csv-tools" },
    el("span", { class: "muted" }, t("schedule.csv.label")), pick, input,
    el("a", { class: "btn btn-ghost btn-sm", href: `/api/v1/${base}export/`, download: `availability-team-${teamId}.csv`,
              dataset: { action: "export" } }, t("schedule.csv.export")));
}
