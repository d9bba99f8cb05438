/**
 * The team rules the teams service enforces (docs/spec.md "Teams", "Milestones", "Todos", "Share board"),
 * checked in the browser first so people get an answer in their language. The server stays the authority.
 */

import { el, field } from "./dom.js";
import { t } from "./i18n.js";

export const TEAM_LIMITS = {
  nameMax: 64, descriptionMax: 500, capacityMin: 1, capacityMax: 100, passwordMin: 4, passwordMax: 128,
  todoMax: 200, milestoneTitleMax: 100, milestoneDescriptionMax: 2000, postTitleMax: 100, postBodyMax: 20000,
  filesPerPost: 5, fileBytes: 20 * 1024 * 1024,
};

/** The browser's IANA time zone (what a new team proposes). */
export function browserTimeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

function knownZones() {
  try {
    return ["UTC", ...Intl.supportedValuesOf("timeZone").filter((zone) => zone !== "UTC")];
  } catch {
    return ["UTC", "Asia/Seoul", "Europe/London", "America/New_York"];
  }
}

/** A time-zone text field with the IANA names as suggestions. */
export function timeZoneField(value) {
  const listId = `zones-${Math.random().toString(36).slice(2, 8)}`;
  const box = field({ name: "time_zone", label: t("teams.field.timeZone"), value, required: true, list: listId,
                      autocomplete: "off", spellcheck: "false", hint: t("teams.field.timeZoneHint") });
  box.append(el("datalist", { id: listId }, knownZones().map((zone) => el("option", { value: zone }))));
  return box;
}

function zoneProblem(value) {
  const zone = (value || "").trim();
  if (!zone) return t("rules.required");
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return null;
  } catch {
    return t("teams.rules.timeZone");
  }
}

/** {field: message} for the team form's values; `password` when the join password is part of the form. */
export function teamProblems(values, { password = false } = {}) {
  const out = {};
  const name = (values.name || "").trim();
  if (!name) out.name = t("rules.required");
  else if (name.length > TEAM_LIMITS.nameMax) out.name = t("teams.rules.tooLong", { max: TEAM_LIMITS.nameMax });
  if ((values.description || "").trim().length > TEAM_LIMITS.descriptionMax) {
    out.description = t("teams.rules.tooLong", { max: TEAM_LIMITS.descriptionMax });
  }
  const capacity = Number(values.capacity);
  if (!Number.isInteger(capacity) || capacity < TEAM_LIMITS.capacityMin || capacity > TEAM_LIMITS.capacityMax) {
    out.capacity = t("teams.rules.capacity", { min: TEAM_LIMITS.capacityMin, max: TEAM_LIMITS.capacityMax });
  }
  if (password) {
    const problem = joinPasswordProblem(values.join_password);
    if (problem) out.join_password = problem;
  }
  const zone = zoneProblem(values.time_zone);
  if (zone) out.time_zone = zone;
  return out;
}

export function joinPasswordProblem(value) {
  const v = value || "";
  if (!v) return t("rules.required");
  if (v.length < TEAM_LIMITS.passwordMin) return t("rules.passwordShort", { min: TEAM_LIMITS.passwordMin });
  if (v.length > TEAM_LIMITS.passwordMax) return t("rules.passwordLong", { max: TEAM_LIMITS.passwordMax });
  return null;
}

/**
 * The todo board's rules, as the server applies them. `todo` has assignee_id and is_completed; `target`
 * is {kind: "backlog" | "member" | "done", userId}; `me` my user id. Returns null when the drop is
 * allowed, or the catalogue key of the reason it is not.
 */
export function dropProblem(todo, target, { me, isHost }) {
  const assignee = todo.assignee_id ?? null;
  const done = Boolean(todo.is_completed);
  const mine = assignee === me;
  const handles = isHost || mine || assignee === null;   // reorder, move to backlog or done
  const finishes = isHost || mine;                        // complete, reopen
  if (target.kind === "backlog") return handles ? null : "todos.rules.notYours";
  if (target.kind === "done") {
    if (done) return handles ? null : "todos.rules.notYours";
    return assignee === null ? null : finishes ? null : "todos.rules.notYours";
  }
  const to = target.userId;
  if (!done && assignee === to) return handles ? null : "todos.rules.notYours";
  if (isHost) return null;
  if (to !== me) return "todos.rules.onlyHostAssigns";
  if (!done) return assignee === null ? null : "todos.rules.takenBySomeoneElse";
  return assignee === null || mine ? null : "todos.rules.takenBySomeoneElse";
}
