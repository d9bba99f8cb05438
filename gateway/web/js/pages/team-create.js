/** /teams/new: create a team (name, description, capacity, join password, time zone); I become its host. */

import { api } from "../api.js";
import { counter, el, field, onSubmit, pageTitle, toast } from "../dom.js";
import { t } from "../i18n.js";
import { navigate } from "../router.js";
import { attempt } from "../team-common.js";
import { TEAM_LIMITS, browserTimeZone, teamProblems, timeZoneField } from "../team-rules.js";

export function render(root) {
  pageTitle(t("teams.create.title"));
  const form = el("form", { class: "stack", "aria-label": t("teams.create.title") },
    field({ name: "name", label: t("teams.field.name"), required: true, maxlength: TEAM_LIMITS.nameMax,
            autocomplete: "off" }),
    field({ name: "description", label: t("teams.field.description"), type: "textarea", rows: 3,
            hint: t("teams.field.descriptionHint") }),
    field({ name: "capacity", label: t("teams.field.capacity"), type: "number", required: true, value: "10",
            min: TEAM_LIMITS.capacityMin, max: TEAM_LIMITS.capacityMax, inputmode: "numeric",
            hint: t("teams.field.capacityHint", { min: TEAM_LIMITS.capacityMin, max: TEAM_LIMITS.capacityMax }) }),
    field({ name: "join_password", label: t("teams.field.joinPassword"), type: "password", required: true,
            autocomplete: "new-password",
            hint: t("teams.field.joinPasswordHint", { min: TEAM_LIMITS.passwordMin }) }),
    timeZoneField(browserTimeZone()),
    el("div", { class: "form-notice" }),
    el("div", { class: "form-actions" },
      el("a", { href: "/teams", class: "btn btn-secondary" }, t("teams.cancel")),
      el("button", { type: "submit", class: "btn btn-primary" }, t("teams.create.submit"))));
  counter(form, "description", TEAM_LIMITS.descriptionMax);

  onSubmit(form, async (values) => {
    const team = await attempt(api.post("teams/", {
      name: values.name.trim(), description: values.description.trim(), capacity: Number(values.capacity),
      join_password: values.join_password, time_zone: values.time_zone.trim(),
    }));
    toast(t("teams.create.done", { name: team.name }), "success");
    navigate(`/teams/${team.id}`);
  }, { busyLabel: t("teams.create.submitting"), validate: (v) => teamProblems(v, { password: true }) });

  root.append(el("div", { class: "container narrow" },
    el("p", { class: "breadcrumb" }, el("a", { href: "/teams" }, t("teams.backToTeams"))),
    el("section", { class: "card" },
      el("h1", {}, t("teams.create.title")),
      el("p", { class: "muted" }, t("teams.create.lead")),
      form)));
}
