/**
 * What dropping a card does (the options of todos/drag.js's dragCards): which columns accept it
 * (team-rules.js dropProblem), and the drop itself — the card lands at once, saves, and returns to
 * where it was if the server says no.
 */

import { toast } from "../../dom.js";
import { t } from "../../i18n.js";
import { teamError } from "../../team-common.js";
import { dropProblem } from "../../team-rules.js";

/** `view`: {board, say(kind, message), afterMove() → Promise, draw()}; `boardEl`: the board's element. */
export function dropOptions(boardEl, view) {
  const { board } = view;

  async function dropTodo(card, column, index) {
    const todo = board.todos.find((x) => x.id === Number(card.dataset.todoId));
    if (!todo) return;
    const list = boardEl.querySelector(`.todo-column[data-column="${column.key}"] .todo-list`);
    const others = [...list.querySelectorAll(".todo-card")].filter((c) => c !== card);
    list.insertBefore(card, others[index] || null);
    card.classList.add("is-saving");
    card.setAttribute("aria-busy", "true");
    view.say("info", t("todos.saving"));
    const before = board.todos.map((x) => ({ ...x }));
    try {
      await board.move(todo, column, index);
      await view.afterMove();
      view.say("success", t("todos.movedNamed", { content: todo.content, column: column.title }));
    } catch (err) {
      board.todos = before;
      view.draw();
      view.say("error", teamError(err));
      toast(teamError(err), "error");
      view.afterMove().catch(() => {});
    }
  }

  return {
    check: (cardEl, columnEl) => {
      const todo = board.todos.find((x) => x.id === Number(cardEl.dataset.todoId));
      const col = board.column(columnEl.dataset.column);
      return todo && col ? dropProblem(todo, col, board.rules()) : "todos.rules.cannotMove";
    },
    drop: (cardEl, columnEl, index) => {
      const col = board.column(columnEl.dataset.column);
      if (col) dropTodo(cardEl, col, index);
    },
    refuse: (card, column, problem) => {
      const message = t(problem);
      view.say("warning", message);
      toast(message, "warning");
    },
  };
}
