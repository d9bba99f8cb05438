/**
 * The dialog behind a todo card's "⋯" button: edit the text, link a milestone, move it (the keyboard
 * and small-screen way to do what dragging does), reorder it, delete it. Each action shows its
 * progress in its button and its error inside the dialog; success closes the dialog and reports.
 */

import { api } from "../../api.js";
import { el, selectField, setBusy, setNotice, toast } from "../../dom.js";
import { t } from "../../i18n.js";
import { teamError } from "../../team-common.js";
import { TEAM_LIMITS, dropProblem } from "../../team-rules.js";
import { confirmAction, modal } from "../../dialogs.js";

/**
 * board: {teamId, me, isHost, milestones, columns: [{key, kind, userId, title}], keyOf(todo),
 *         columnTodos(key), move(todo, column, index) → Promise, refresh() → Promise}
 */
export function todoDialog(todo, board) {
  const base = `teams/${board.teamId}/todos/${todo.id}/`;
  const handles = board.isHost || todo.assignee_id === null || todo.assignee_id === board.me;
  const finishes = board.isHost || todo.assignee_id === board.me;
  const slot = el("div", { class: "form-notice", "aria-live": "polite" });
  let box = null;

  async function run(button, busyLabel, work, done) {
    setNotice(slot, null);
    setBusy(button, true, busyLabel);
    try {
      await work();
      box.close();
      toast(done, "success");
      await board.refresh();
    } catch (err) {
      setBusy(button, false);
      setNotice(slot, "error", teamError(err));
    }
  }

  const text = el("textarea", { name: "content", rows: 3, maxlength: TEAM_LIMITS.todoMax, id: `todo-edit-${todo.id}`,
                                readonly: !handles }, todo.content);
  const milestone = selectField({
    name: "milestone_id", label: t("todos.milestone"), value: todo.milestone_id ?? "",
    options: [["", t("todos.noMilestone")], ...board.milestones.map((m) => [m.id, m.title])],
  });
  const here = board.keyOf(todo);
  const current = board.columns.find((c) => c.key === here);
  const targets = board.columns.filter((c) => c.key !== here && !dropProblem(todo, c, board));
  const moveSelect = selectField({ name: "column", label: t("todos.moveTo"),
                                   options: [["", t("todos.stayIn", { column: current?.title ?? "" })],
                                             ...targets.map((c) => [c.key, c.title])] });
  const save = el("button", { type: "submit", class: "btn btn-primary btn-sm", dataset: { action: "save" } },
    t("common.save"));

  /** One save for the text, the milestone and the column: only what changed is sent, in that order. */
  const form = el("form", { class: "stack todo-edit-form" },
    el("div", { class: "field" }, el("label", { for: text.id }, t("todos.content")), text,
      handles ? null : el("p", { class: "field-hint" }, t("todos.rules.notYours"))),
    milestone,
    targets.length ? moveSelect : el("p", { class: "muted" }, t("todos.rules.cannotMove")),
    el("div", { class: "form-actions" }, save));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const content = text.value.trim();
    if (handles && (!content || content.length > TEAM_LIMITS.todoMax)) {
      setNotice(slot, "error", t("todos.rules.content", { max: TEAM_LIMITS.todoMax }));
      return;
    }
    const milestoneValue = milestone.querySelector("select").value;
    const column = board.columns.find((c) => c.key === moveSelect.querySelector("select").value);
    run(save, t("common.saving"), async () => {
      if (handles && content !== todo.content) await api.patch(base, { content });
      if (milestoneValue !== String(todo.milestone_id ?? "")) {
        await api.post(`${base}assign-milestone/`, { milestone_id: milestoneValue ? Number(milestoneValue) : null });
      }
      if (column) await board.move(todo, column, Number.MAX_SAFE_INTEGER);
    }, column ? t("todos.moved", { column: column.title }) : t("todos.saved"));
  });

  const siblings = board.columnTodos(here);
  const position = siblings.findIndex((x) => x.id === todo.id);
  const up = el("button", { type: "button", class: "btn btn-ghost btn-sm", dataset: { action: "up" },
                            disabled: !handles || position <= 0 }, t("todos.up"));
  const down = el("button", { type: "button", class: "btn btn-ghost btn-sm", dataset: { action: "down" },
                              disabled: !handles || position >= siblings.length - 1 }, t("todos.down"));
  up.addEventListener("click", () => run(up, t("common.saving"),
    () => api.post(`${base}reorder/`, { position: position - 1 }), t("todos.reordered")));
  down.addEventListener("click", () => run(down, t("common.saving"),
    () => api.post(`${base}reorder/`, { position: position + 1 }), t("todos.reordered")));

  const remove = el("button", { type: "button", class: "btn btn-danger btn-sm", dataset: { action: "delete" } },
    t("todos.delete"));
  remove.addEventListener("click", () => confirmAction({ describe: teamError,
    title: t("todos.delete"), message: t("todos.deleteConfirm", { content: todo.content }),
    confirmLabel: t("todos.delete"), busyLabel: t("common.working"), danger: true,
    action: async () => {
      await api.delete(base);
      box.close();
      toast(t("todos.deleted"), "success");
      await board.refresh();
    },
  }));

  box = modal({
    title: t("todos.dialogTitle"),
    className: "todo-dialog",
    body: [
      form,
      el("div", { class: "dialog-section" }, el("div", { class: "form-actions" }, up, down)),
      finishes ? el("div", { class: "dialog-section danger-zone" }, el("div", { class: "form-actions" }, remove)) : null,
      slot,
    ],
  });
  return box;
}
