/**
 * Suggestions for the shown week: pick a length and a minimum attendance, get the best windows (everyone
 * first, then earliest), each downloadable as an .ics event.
 *
 *   suggestionsPanel({teamId, days, memberCount, timeZone, onPick, onBook}) → {node}
 *   onPick(window | null): hovering a suggestion outlines it on the heat-map
 *   onBook(window): the suggestion's "Book" button (optional)
 */

import { api, describeError } from "../../api.js";
import { el, notice, setBusy } from "../../dom.js";
import { language, t, tn } from "../../i18n.js";
import { nameBook } from "./heatmap.js";

const DURATIONS = [30, 60, 90, 120, 180, 240];
const SHOWN = 10;

function when(item, timeZone) {
  const locale = language() === "ko" ? "ko-KR" : "en";
  const day = new Intl.DateTimeFormat(locale, { timeZone, weekday: "short", month: "short", day: "numeric" });
  const time = new Intl.DateTimeFormat(locale, { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const start = new Date(item.start);
  const end = new Date(item.end);
  const sameDay = item.date === item.end_date || (item.end_slot === 0 && item.date !== item.end_date);
  return sameDay ? `${day.format(start)} ${time.format(start)}–${time.format(end)}`
    : `${day.format(start)} ${time.format(start)} – ${day.format(end)} ${time.format(end)}`;
}

function selectField({ name, label, options, value }) {
  const id = `schedule-${name}`;
  return el("div", { class: "field", dataset: { field: name } },
    el("label", { for: id }, label),
    el("select", { id, name }, options.map(([v, text]) => el("option", { value: v, selected: v === value }, text))));
}

function icsHref(teamId, item) {
  const query = new URLSearchParams({ start: item.start, end: item.end });
  return `/api/v1/teams/${encodeURIComponent(teamId)}/schedules/ics/?${query}`;
}

/**
 * One card per free window: the API proposes every `duration` slice of a long shared window (14:00–15:00,
 * 14:30–15:30 …); slices with the same people that overlap or touch become one window. Its .ics is the
 * first slice (the meeting's length), its outline on the heat-map the whole window.
 */
export function mergeWindows(items) {
  const people = (item) => item.attendees.map((a) => a.user_id).sort((a, b) => a - b).join(",");
  const merged = [];
  for (const item of items) {
    const same = merged.find((m) => m.people === people(item) && Date.parse(item.start) <= Date.parse(m.end)
                                    && Date.parse(item.end) >= Date.parse(m.start));
    if (!same) {
      merged.push({ ...item, people: people(item), meeting: { start: item.start, end: item.end } });
      continue;
    }
    if (Date.parse(item.start) < Date.parse(same.start)) {
      Object.assign(same, { start: item.start, date: item.date, slot: item.slot, meeting: { start: item.start, end: item.end } });
    }
    if (Date.parse(item.end) > Date.parse(same.end)) {
      Object.assign(same, { end: item.end, end_date: item.end_date, end_slot: item.end_slot });
    }
  }
  return merged;
}

function lengthOf(item) {
  const minutes = Math.round((Date.parse(item.end) - Date.parse(item.start)) / 60000);
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return [hours ? tn("schedule.suggest.hours", hours) : "", rest ? t("schedule.suggest.minutes", { n: rest }) : ""]
    .filter(Boolean).join(" ");
}

export function suggestionsPanel({ teamId, days, memberCount, timeZone, onPick, onBook = null }) {
  const durations = DURATIONS.map((minutes) => [minutes, t("schedule.suggest.minutes", { n: minutes })]);
  const attendance = Array.from({ length: Math.max(1, memberCount) }, (_, i) => [i + 1,
    i + 1 === memberCount ? t("schedule.suggest.everyoneOption", { n: i + 1 }) : tn("schedule.suggest.people", i + 1)]);
  const results = el("div", { class: "suggestion-results", "aria-live": "polite" });
  const button = el("button", { type: "submit", class: "btn btn-primary" }, t("schedule.suggest.find"));
  const form = el("form", { class: "suggestion-form" },
    selectField({ name: "duration_minutes", label: t("schedule.suggest.duration"), options: durations, value: 60 }),
    selectField({ name: "min_attendance", label: t("schedule.suggest.minAttendance"), options: attendance,
                  value: Math.max(1, memberCount) }),
    el("div", { class: "form-actions" }, button));

  async function find() {
    const values = Object.fromEntries(new FormData(form));
    setBusy(button, true, t("schedule.suggest.finding"));
    onPick(null);
    try {
      const data = await api.get(`teams/${encodeURIComponent(teamId)}/schedules/suggestions/`, {
        query: { start: days[0], end: days[days.length - 1], ...values, limit: 50 },
      });
      show(data);
    } catch (err) {
      results.replaceChildren(notice("error", el("p", {}, describeError(err))));
    } finally {
      setBusy(button, false);
    }
  }

  function show(data) {
    if (!data.items.length) {
      results.replaceChildren(el("p", { class: "empty" }, t("schedule.suggest.none")));
      return;
    }
    const nameOf = nameBook(data.items.flatMap((item) => item.attendees));
    const windows = mergeWindows(data.items).slice(0, SHOWN);
    results.replaceChildren(el("ol", { class: "suggestions" }, windows.map((item) => {
      const badge = item.everyone ? el("span", { class: "badge everyone" }, t("schedule.suggest.everyone"))
        : el("span", { class: "badge" }, t("schedule.heatmap.count", { count: item.attendance, total: data.member_count }));
      const entry = el("li", { class: "suggestion", tabindex: "0", dataset: { start: item.start, end: item.end } },
        el("div", { class: "row" }, el("span", { class: "when" }, when(item, timeZone)), badge),
        el("p", { class: "span muted" }, t("schedule.suggest.freeFor", { length: lengthOf(item) })),
        el("p", { class: "who" }, item.attendees.map((a) => nameOf(a.user_id)).join(", ")),
        el("a", { class: "btn btn-secondary btn-sm", href: icsHref(teamId, item.meeting), download: "teammoa-meeting.ics",
                  dataset: { action: "ics" } }, t("schedule.suggest.download")),
        onBook ? el("button", { type: "button", class: "btn btn-primary btn-sm", dataset: { action: "book" },
                                onclick: () => onBook(item.meeting) }, t("schedule.meetings.bookThis")) : "");
      entry.addEventListener("pointerenter", () => onPick(item));
      entry.addEventListener("focusin", () => onPick(item));
      entry.addEventListener("pointerleave", () => onPick(null));
      return entry;
    })));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    find();
  });
  const node = el("section", { class: "card suggestions-card", "aria-labelledby": "suggest-title" },
    el("h2", { id: "suggest-title" }, t("schedule.suggest.title")),
    el("p", { class: "muted" }, t("schedule.suggest.help")),
    form, results);
  return { node, find };
}
