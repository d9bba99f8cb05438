/**
 * The todo board's columns and cards. `view` holds what they act through:
 *   {board, say(kind, message), showError(err), afterMove() → Promise, openDialog(todo)}
 */

import { el, toast } from "../../dom.js";
import { t, tn } from "../../i18n.js";
import { teamError, teamIcon } from "../../team-common.js";
import { dropProblem } from "../../team-rules.js";

/** The round button on a card: complete (or reopen) where the person may. */
function checkButton(todo, view) {
  const { board } = view;
  const done = todo.is_completed;
  const columns = board.columns;
  const target = done ? (todo.assignee_id !== null && board.memberIds().has(todo.assignee_id)
    ? columns.find((c) => c.userId === todo.assignee_id) : columns[0]) : columns.at(-1);
  if (!target || dropProblem(todo, target, board.rules())) return null;
  const button = el("button", { type: "button", class: ["todo-check", done ? "checked" : ""],
                                "aria-pressed": String(done), dataset: { action: "complete" },
                                title: done ? t("todos.reopen") : t("todos.complete"),
                                "aria-label": done ? t("todos.reopen") : t("todos.complete") },
    teamIcon("check"));
  button.addEventListener("click", async () => {
    const card = button.closest(".todo-card");
    card.classList.add("is-saving");
    button.disabled = true;
    view.say("info", t("todos.saving"));
    try {
      await board.move(todo, target, Number.MAX_SAFE_INTEGER);
      await view.afterMove();
      view.say("success", done ? t("todos.reopened", { content: todo.content }) : t("todos.completed", { content: todo.content }));
    } catch (err) {
      card.classList.remove("is-saving");
      button.disabled = false;
      view.say("error", teamError(err));
      toast(teamError(err), "error");
    }
  });
  return button;
}

function card(todo, view) {
  const { board } = view;
  const milestone = todo.milestone_id ? board.milestoneTitle(todo.milestone_id) : null;
  const doneBy = todo.is_completed && todo.assignee_id !== null ? board.ctx.nameOf(todo.assignee_id) : null;
  const more = el("button", { type: "button", class: "todo-more", dataset: { action: "more" },
                              "aria-label": t("todos.actions", { content: todo.content }) }, teamIcon("more"));
  more.addEventListener("click", () => view.openDialog(todo));
  return el("article", { class: ["todo-card", todo.is_completed ? "is-done" : ""], dataset: {
    todoId: todo.id, draggable: "true" } },
  el("span", { class: "todo-grip", "aria-hidden": "true", title: t("todos.dragHint") }, teamIcon("grip", "icon grip")),
  el("div", { class: "todo-main" },
    el("p", { class: "todo-content" }, todo.content),
    milestone || doneBy ? el("p", { class: "todo-meta" },
      milestone ? el("span", { class: "todo-milestone" }, teamIcon("flag"), milestone) : null,
      doneBy ? el("span", { class: "todo-done-by" }, t("todos.doneBy", { name: doneBy })) : null) : null),
  el("div", { class: "todo-actions" }, checkButton(todo, view), more));
}

/** One column: its title, count and cards (or the empty text). */
export function column(col, view) {
  const items = view.board.columnTodos(col.key);
  const self = col.kind === "member" && col.userId === view.board.me;
  return el("section", { class: ["todo-column", `column-${col.kind}`, self ? "column-mine" : ""],
                         dataset: { column: col.key, kind: col.kind, userId: col.userId ?? "" },
                         "aria-label": col.title },
    el("header", { class: "todo-column-head" },
      el("h2", { class: "todo-column-title" }, col.title,
        self ? el("span", { class: "muted" }, ` ${t("teams.you")}`) : null),
      col.role === "host" ? el("span", { class: "badge role-host" }, t("teams.role.host")) : null,
      el("span", { class: "todo-count", "aria-label": tn("todos.count", items.length) }, String(items.length))),
    el("div", { class: "todo-list" }, items.length ? items.map((todo) => card(todo, view))
      : el("p", { class: "todo-empty" }, t(`todos.empty.${col.kind}`))));
}
