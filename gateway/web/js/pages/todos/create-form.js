/** The form above the todo board that adds a todo (optionally linked to a milestone). */

import { api } from "../../api.js";
import { el, onSubmit, selectField, setNotice } from "../../dom.js";
import { t } from "../../i18n.js";
import { attempt, teamIcon } from "../../team-common.js";
import { TEAM_LIMITS } from "../../team-rules.js";

/** `view`: {board, say(kind, message), afterMove() → Promise (reload and redraw)}. */
export function createForm(view) {
  const { board } = view;
  const input = el("input", { name: "content", type: "text", maxlength: TEAM_LIMITS.todoMax, required: true,
                              autocomplete: "off", placeholder: t("todos.newPlaceholder"),
                              "aria-label": t("todos.content") });
  const pick = selectField({ name: "milestone_id", label: t("todos.milestone"),
                             options: [["", t("todos.noMilestone")], ...board.milestones.map((m) => [m.id, m.title])] });
  const form = el("form", { class: "todo-create", "aria-label": t("todos.new") },
    el("div", { class: "field todo-create-text", dataset: { field: "content" } }, input,
      el("p", { class: "field-message", "aria-live": "polite" })),
    pick,
    el("button", { type: "submit", class: "btn btn-primary" }, teamIcon("plus"), t("todos.add")),
    el("div", { class: "form-notice" }));
  onSubmit(form, async (values, { slot }) => {
    const body = { content: values.content.trim(), milestone_id: values.milestone_id ? Number(values.milestone_id) : null };
    await attempt(api.post(`${board.base}todos/`, body));
    input.value = "";
    setNotice(slot, null);
    await view.afterMove();
    view.say("success", t("todos.created", { content: body.content }));
    form.querySelector("input[name=content]").focus();
  }, { busyLabel: t("todos.adding"), validate: (v) => {
    const text = v.content.trim();
    return text && text.length <= TEAM_LIMITS.todoMax ? {} : { content: t("todos.rules.content", { max: TEAM_LIMITS.todoMax }) };
  } });
  return form;
}
