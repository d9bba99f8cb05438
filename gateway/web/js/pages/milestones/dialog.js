/**
 * The milestone dialog, to create or edit: title, description, dates, priority, progress mode; in manual
 * mode a progress slider, in auto mode the progress the linked todos give. Editing also deletes.
 */

import { api } from "../../api.js";
import { counter, el, field, onSubmit, selectField, setNotice, toast } from "../../dom.js";
import { t } from "../../i18n.js";
import { attempt, teamError } from "../../team-common.js";
import { dayOf, textOfDay } from "../../format.js";
import { TEAM_LIMITS } from "../../team-rules.js";
import { confirmAction, modal } from "../../dialogs.js";

export const PRIORITIES = ["critical", "high", "medium", "low", "minimal"];
const NEW_SPAN_DAYS = 6;  // a new milestone proposes one week, today included

function problemsOf(values) {
  const out = {};
  const title = values.title.trim();
  if (!title) out.title = t("rules.required");
  else if (title.length > TEAM_LIMITS.milestoneTitleMax) out.title = t("teams.rules.tooLong", { max: TEAM_LIMITS.milestoneTitleMax });
  if (values.description.length > TEAM_LIMITS.milestoneDescriptionMax) {
    out.description = t("teams.rules.tooLong", { max: TEAM_LIMITS.milestoneDescriptionMax });
  }
  if (!values.start_date) out.start_date = t("rules.required");
  if (!values.end_date) out.end_date = t("rules.required");
  if (values.start_date && values.end_date && values.end_date < values.start_date) {
    out.end_date = t("milestones.rules.endBeforeStart");
  }
  return out;
}

/**
 * Open the dialog. milestone: null to create (defaults: start today, end in a week). onSaved(milestone)
 * after a create or edit, onDeleted(id) after a delete.
 */
export function milestoneDialog({ teamId, milestone = null, today, onSaved, onDeleted }) {
  const editing = Boolean(milestone);
  const m = milestone || { title: "", description: "", start_date: today, end_date: textOfDay(dayOf(today) + NEW_SPAN_DAYS), priority: "medium",
                           progress_mode: "auto", progress: 0 };
  const slider = el("input", { type: "range", name: "progress", min: 0, max: 100, step: 1, value: String(m.progress),
                               id: `ms-progress-${m.id ?? "new"}`, class: "progress-slider" });
  const output = el("output", { for: slider.id, class: "progress-output" }, `${m.progress}%`);
  slider.addEventListener("input", () => { output.textContent = `${slider.value}%`; });
  const manualBox = el("div", { class: "field", dataset: { field: "progress" } },
    el("label", { for: slider.id }, t("milestones.progress")), el("div", { class: "slider-row" }, slider, output),
    el("p", { class: "field-message", "aria-live": "polite" }));
  const autoBox = el("p", { class: "field-hint auto-progress" }, t("milestones.autoHint", { progress: m.progress }));
  const mode = selectField({ name: "progress_mode", label: t("milestones.mode"), value: m.progress_mode,
                             options: [["auto", t("milestones.modes.auto")], ["manual", t("milestones.modes.manual")]] });
  const modeSelect = mode.querySelector("select");
  const showMode = () => {
    manualBox.hidden = modeSelect.value !== "manual";
    autoBox.hidden = modeSelect.value !== "auto";
  };
  modeSelect.addEventListener("change", showMode);
  showMode();
  if (editing && m.progress_mode === "auto") {
    api.get(`teams/${teamId}/milestones/${m.id}/`).then((detail) => {
      const stats = detail.todo_stats || { total: 0, completed: 0 };
      autoBox.textContent = t("milestones.autoStats", { done: stats.completed, total: stats.total, progress: detail.progress });
    }).catch(() => {});
  }

  const remove = editing ? el("button", { type: "button", class: "btn btn-danger", dataset: { action: "delete" } },
    t("milestones.delete")) : null;
  const form = el("form", { class: "stack milestone-form" },
    field({ name: "title", label: t("milestones.field.title"), value: m.title, required: true,
            maxlength: TEAM_LIMITS.milestoneTitleMax, autocomplete: "off" }),
    field({ name: "description", label: t("milestones.field.description"), type: "textarea", rows: 3,
            value: m.description || "" }),
    el("div", { class: "field-pair" },
      field({ name: "start_date", label: t("milestones.field.start"), type: "date", value: m.start_date, required: true }),
      field({ name: "end_date", label: t("milestones.field.end"), type: "date", value: m.end_date, required: true })),
    el("div", { class: "field-pair" },
      selectField({ name: "priority", label: t("milestones.field.priority"), value: m.priority,
                    options: PRIORITIES.map((p) => [p, t(`milestones.priority.${p}`)]) }),
      mode),
    manualBox, autoBox,
    el("div", { class: "form-notice" }),
    el("div", { class: "form-actions" }, remove,
      el("button", { type: "submit", class: "btn btn-primary" }, editing ? t("common.save") : t("milestones.create"))));
  counter(form, "description", TEAM_LIMITS.milestoneDescriptionMax);
  const box = modal({ title: editing ? t("milestones.edit") : t("milestones.new"), body: form, className: "milestone-dialog" });

  onSubmit(form, async (values) => {
    const body = { title: values.title.trim(), description: values.description.trim(), start_date: values.start_date,
                   end_date: values.end_date, priority: values.priority, progress_mode: values.progress_mode };
    if (values.progress_mode === "manual") body.progress = Number(slider.value);
    const saved = editing
      ? await attempt(api.patch(`teams/${teamId}/milestones/${m.id}/`, body))
      : await attempt(api.post(`teams/${teamId}/milestones/`, body));
    box.close();
    toast(editing ? t("milestones.saved") : t("milestones.created", { title: saved.title }), "success");
    onSaved(saved);
  }, { busyLabel: t("common.saving"), validate: problemsOf });

  if (remove) {
    remove.addEventListener("click", () => confirmAction({ describe: teamError,
      title: t("milestones.delete"), message: t("milestones.deleteConfirm", { title: m.title }),
      confirmLabel: t("milestones.delete"), busyLabel: t("common.working"), danger: true,
      action: async () => {
        await api.delete(`teams/${teamId}/milestones/${m.id}/`);
        box.close();
        toast(t("milestones.deleted"), "success");
        onDeleted(m.id);
      },
    }));
  }
  setNotice(form.querySelector(".form-notice"), null);
  return box;
}
