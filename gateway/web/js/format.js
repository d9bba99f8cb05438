/**
 * Dates without times, and sizes, for every page (the one copy): a date is "YYYY-MM-DD" (milestones,
 * a team's schedule days), counted here as whole days since 1970-01-01 (dayOf / textOfDay) and formatted
 * in UTC, so the browser's own time zone never shifts a team's date. Times of day: i18n.js formatDateTime.
 */

import { language } from "./i18n.js";

export const DAY_MS = 24 * 60 * 60 * 1000;

export function dayOf(text) {
  const [y, m, d] = String(text).split("-").map(Number);
  return Math.round(Date.UTC(y, m - 1, d) / DAY_MS);
}

export function textOfDay(day) {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** Today in a time zone, as "YYYY-MM-DD". */
export function todayIn(timeZone) {
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" })
      .format(new Date());
  } catch {
    return new Date().toISOString().slice(0, 10);
  }
}

function locale() {
  return language() === "ko" ? "ko-KR" : "en";
}

/** A date-only value for people: options as Intl.DateTimeFormat's (default "Mar 5, 2026"). */
export function formatDay(day, options = { dateStyle: "medium" }) {
  const value = typeof day === "number" ? day : dayOf(day);
  return new Intl.DateTimeFormat(locale(), { ...options, timeZone: "UTC" }).format(new Date(value * DAY_MS));
}

/** "1.2 MB" */
export function formatSize(bytes) {
  const units = ["B", "KB", "MB", "GB"];
  let value = Number(bytes) || 0;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
