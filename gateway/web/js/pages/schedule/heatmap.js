/**
 * The team heat-map of a week: each half-hour coloured by the share of the team that is free, slots
 * where everyone is free outlined; hovering (or focusing) a cell says who is free.
 *
 *   heatMap({view, days}) → {node, highlight(window)}
 *   view: the API's team view {"member_count", "members": [{user_id, nickname}], "days": [{date, slots}]}
 */

import { el } from "../../dom.js";
import { t, tn } from "../../i18n.js";
import { formatDay } from "../../format.js";
import { DAYS, clock, rovingFocus, slotGrid } from "./grid.js";

export function nameBook(members) {
  const names = new Map(members.map((m) => [m.user_id, m.nickname || t("schedule.someone")]));
  return (userId) => names.get(userId) || t("schedule.someone");
}

export function heatMap({ view, days }) {
  const nameOf = nameBook(view.members);
  const byDate = new Map(view.days.map((day) => [day.date, day.slots]));
  const detail = el("div", { class: "heat-detail", role: "status", "aria-live": "polite" },
    el("span", { class: "muted" }, t("schedule.heatmap.hoverHint")));
  const describe = (day, slot) => {
    const info = (byDate.get(day) || [])[slot] || { count: 0, who: [], everyone: false };
    const names = info.who.map(nameOf).join(", ");
    const count = info.everyone ? t("schedule.heatmap.everyone")
      : t("schedule.heatmap.count", { count: info.count, total: view.member_count });
    return { info, names, count };
  };
  const grid = slotGrid({
    days, className: "heatmap", label: t("schedule.heatmap.gridLabel"), role: "img",
    cell(day, slot, node) {
      const { info, names, count } = describe(day, slot);
      node.style.setProperty("--share", String(info.share || 0));
      node.dataset.count = String(info.count);
      node.classList.toggle("everyone", Boolean(info.everyone));
      node.title = names ? `${count}: ${names}` : count;
      node.setAttribute("aria-label", `${node.getAttribute("aria-label")} · ${node.title}`);
    },
  });
  const show = (event) => {
    const node = event.target.closest(".slot-cell");
    if (!node) return;
    const { day, slot } = { day: node.dataset.date, slot: Number(node.dataset.slot) };
    const { names, count } = describe(day, slot);
    detail.replaceChildren(
      el("strong", {}, `${formatDay(day, { weekday: "short", month: "short", day: "numeric" })} `
        + `${clock(slot)}–${clock(slot + 1)}`),
      el("div", {}, count),
      el("div", { class: "who", dataset: { who: "" } }, names || t("schedule.heatmap.nobody")));
  };
  grid.addEventListener("pointerover", show);
  grid.addEventListener("focusin", show);
  rovingFocus(grid, days);
  const cells = [...grid.querySelectorAll(".slot-cell")];
  const legend = el("div", { class: "heat-legend heatmap", "aria-hidden": "true" },
    el("span", {}, t("schedule.heatmap.legendNone")),
    [0, 0.25, 0.5, 0.75, 1].map((share) => {
      const swatch = el("span", { class: "swatch slot-cell" });
      swatch.style.setProperty("--share", String(share));
      return swatch;
    }),
    el("span", {}, t("schedule.heatmap.legendAll")),
    el("span", { class: "swatch slot-cell everyone" }), el("span", {}, t("schedule.heatmap.legendEveryone")));
  const node = el("section", { class: "card heatmap-card", "aria-labelledby": "heatmap-title" },
    el("h2", { id: "heatmap-title" }, t("schedule.heatmap.title")),
    el("p", { class: "muted" }, tn("schedule.heatmap.members", view.member_count)),
    detail, el("div", { class: "slot-grid-wrap heatmap" }, grid), legend);
  return {
    node,
    /** Outline the slots of a suggested window (null clears). */
    highlight(window) {
      cells.forEach((cell) => cell.classList.remove("highlight"));
      if (!window) return;
      let col = days.indexOf(window.date);
      let slot = window.slot;
      const endCol = days.indexOf(window.end_date);
      while (col >= 0 && col < DAYS && (col < endCol || (col === endCol && slot < window.end_slot) || endCol < 0)) {
        cells[slot * DAYS + col]?.classList.add("highlight");
        slot += 1;
        if (slot === 48) {
          slot = 0;
          col += 1;
        }
      }
    },
  };
}
