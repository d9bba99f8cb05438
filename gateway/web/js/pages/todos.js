/**
 * /teams/:teamId/todos: the todo board — backlog → one column per member → done. Cards move by drag and
 * drop (todo-drag.js) only where the rules allow (team-rules.js dropProblem, the server stays the
 * authority): the card lands at once, shows that it is saving, and goes back with the error if the server
 * refuses. New todos, text edits, milestone links, reordering and deleting live in the card's dialog.
 */

import { api } from "../api.js";
import { el, onSubmit, pageTitle, setNotice, toast } from "../dom.js";
import { t, tn } from "../i18n.js";
import { navigate } from "../app.js";
import {
  attempt, closeDialogs, coalesce, isTeamGone, loadTeam, selectField, teamError, teamFailure, teamHeader, teamIcon, teamLoading,
  watchTeam,
} from "../team-common.js";
import { TEAM_LIMITS, dropProblem } from "../team-rules.js";
import { dragCards } from "../todo-drag.js";
import { todoDialog } from "../todo-dialog.js";

async function fetchAll(path) {
  const items = [];
  for (let page = 1; ; page += 1) {
    const data = await api.get(path, { query: { page, page_size: 100 } });
    items.push(...data.items);
    if (items.length >= data.total || !data.items.length) return items;
  }
}

export async function render(root, { teamId }) {
  pageTitle(t("todos.title"));
  root.append(teamLoading());
  const base = `teams/${encodeURIComponent(teamId)}/`;
  let ctx;
  let todos;
  let milestones;
  try {
    [ctx, todos, milestones] = await Promise.all([loadTeam(teamId), fetchAll(`${base}todos/`),
                                                  fetchAll(`${base}milestones/`)]);
  } catch (err) {
    teamFailure(root, err);
    return undefined;
  }

  const status = el("p", { class: "board-status", "aria-live": "polite" });
  const boardEl = el("div", { class: "todo-board" });
  let pendingRefresh = false;

  const me = () => ctx.me?.id;
  const columns = () => [
    { key: "backlog", kind: "backlog", title: t("todos.column.backlog") },
    ...ctx.members.map((m) => ({ key: `member-${m.user_id}`, kind: "member", userId: m.user_id,
                                 title: m.nickname || t("teams.formerMember"), role: m.role })),
    { key: "done", kind: "done", title: t("todos.column.done") },
  ];
  const memberIds = () => new Set(ctx.members.map((m) => m.user_id));
  const keyOf = (todo) => {
    if (todo.is_completed) return "done";
    if (todo.assignee_id === null || !memberIds().has(todo.assignee_id)) return "backlog";
    return `member-${todo.assignee_id}`;
  };
  const byPosition = (a, b) => a.position - b.position || a.id - b.id;
  const columnTodos = (key) => todos.filter((todo) => keyOf(todo) === key).sort(byPosition);
  const rules = () => ({ me: me(), isHost: ctx.isHost });
  const milestoneTitle = (id) => milestones.find((m) => m.id === id)?.title;

  function say(kind, message) {
    setNotice(status, kind, message);
  }

  async function reload() {
    [todos, milestones] = await Promise.all([fetchAll(`${base}todos/`), fetchAll(`${base}milestones/`)]);
    draw();
  }

  async function reloadAll() {
    ctx = await loadTeam(teamId);
    await reload();
  }

  /** The API calls that take a todo from its column to another (the rules are the server's). */
  async function move(todo, column, index) {
    const path = `${base}todos/${todo.id}/`;
    const from = keyOf(todo);
    if (from === column.key) {
      const current = columnTodos(from).findIndex((x) => x.id === todo.id);
      if (index !== current) await api.post(`${path}reorder/`, { position: index });
      return;
    }
    const length = columnTodos(column.key).length;
    if (column.kind === "backlog") {
      await api.post(`${path}move-to-todo/`);
    } else if (column.kind === "done") {
      if (todo.assignee_id === null) await api.post(`${path}move-to-done/`);
      else await api.post(`${path}complete/`, { completed: true });
    } else if (!todo.is_completed) {
      await api.post(`${path}assign/`, { user_id: column.userId });
    } else if (todo.assignee_id === column.userId) {
      await api.post(`${path}complete/`, { completed: false });
    } else {
      if (todo.assignee_id === null) await api.post(`${path}move-to-todo/`);
      else await api.post(`${path}complete/`, { completed: false });
      await api.post(`${path}assign/`, { user_id: column.userId });
    }
    if (index < length) await api.post(`${path}reorder/`, { position: index });
  }

  const board = {
    teamId, get me() { return me(); }, get isHost() { return ctx.isHost; }, get milestones() { return milestones; },
    get columns() { return columns(); }, keyOf, columnTodos, move, refresh: () => reload().catch(showError),
  };

  function showError(err) {
    say("error", teamError(err));
  }

  /** Drop a card: it lands at once, saves, and returns to where it was if the server says no. */
  async function dropTodo(card, column, index) {
    const todo = todos.find((x) => x.id === Number(card.dataset.todoId));
    if (!todo) return;
    const list = boardEl.querySelector(`.todo-column[data-column="${column.key}"] .todo-list`);
    const others = [...list.querySelectorAll(".todo-card")].filter((c) => c !== card);
    list.insertBefore(card, others[index] || null);
    card.classList.add("is-saving");
    card.setAttribute("aria-busy", "true");
    say("info", t("todos.saving"));
    const before = todos.map((x) => ({ ...x }));
    try {
      await move(todo, column, index);
      await reload();
      say("success", t("todos.movedNamed", { content: todo.content, column: column.title }));
    } catch (err) {
      todos = before;
      draw();
      say("error", teamError(err));
      toast(teamError(err), "error");
      reload().catch(() => {});
    }
  }

  function refuse(card, column, problem) {
    const message = t(problem);
    say("warning", message);
    toast(message, "warning");
  }

  /** The round button on a card: complete (or reopen) where the person may. */
  function checkButton(todo) {
    const done = todo.is_completed;
    const target = done ? (todo.assignee_id !== null && memberIds().has(todo.assignee_id)
      ? columns().find((c) => c.userId === todo.assignee_id) : columns()[0]) : columns().at(-1);
    if (!target || dropProblem(todo, target, rules())) return null;
    const button = el("button", { type: "button", class: ["todo-check", done ? "checked" : ""],
                                  "aria-pressed": String(done), dataset: { action: "complete" },
                                  title: done ? t("todos.reopen") : t("todos.complete"),
                                  "aria-label": done ? t("todos.reopen") : t("todos.complete") },
      teamIcon("check"));
    button.addEventListener("click", async () => {
      const card = button.closest(".todo-card");
      card.classList.add("is-saving");
      button.disabled = true;
      say("info", t("todos.saving"));
      try {
        await move(todo, target, Number.MAX_SAFE_INTEGER);
        await reload();
        say("success", done ? t("todos.reopened", { content: todo.content }) : t("todos.completed", { content: todo.content }));
      } catch (err) {
        card.classList.remove("is-saving");
        button.disabled = false;
        say("error", teamError(err));
        toast(teamError(err), "error");
      }
    });
    return button;
  }

  function card(todo) {
    const milestone = todo.milestone_id ? milestoneTitle(todo.milestone_id) : null;
    const doneBy = todo.is_completed && todo.assignee_id !== null ? ctx.nameOf(todo.assignee_id) : null;
    const more = el("button", { type: "button", class: "todo-more", dataset: { action: "more" },
                                "aria-label": t("todos.actions", { content: todo.content }) }, teamIcon("more"));
    more.addEventListener("click", () => todoDialog(todo, board));
    return el("article", { class: ["todo-card", todo.is_completed ? "is-done" : ""], dataset: {
      todoId: todo.id, draggable: "true" } },
    el("span", { class: "todo-grip", "aria-hidden": "true", title: t("todos.dragHint") }, teamIcon("grip", "icon grip")),
    el("div", { class: "todo-main" },
      el("p", { class: "todo-content" }, todo.content),
      milestone || doneBy ? el("p", { class: "todo-meta" },
        milestone ? el("span", { class: "todo-milestone" }, teamIcon("flag"), milestone) : null,
        doneBy ? el("span", { class: "todo-done-by" }, t("todos.doneBy", { name: doneBy })) : null) : null),
    el("div", { class: "todo-actions" }, checkButton(todo), more));
  }

  function column(col) {
    const items = columnTodos(col.key);
    const self = col.kind === "member" && col.userId === me();
    return el("section", { class: ["todo-column", `column-${col.kind}`, self ? "column-mine" : ""],
                           dataset: { column: col.key, kind: col.kind, userId: col.userId ?? "" },
                           "aria-label": col.title },
      el("header", { class: "todo-column-head" },
        el("h2", { class: "todo-column-title" }, col.title,
          self ? el("span", { class: "muted" }, ` ${t("teams.you")}`) : null),
        col.role === "host" ? el("span", { class: "badge role-host" }, t("teams.role.host")) : null,
        el("span", { class: "todo-count", "aria-label": tn("todos.count", items.length) }, String(items.length))),
      el("div", { class: "todo-list" }, items.length ? items.map(card)
        : el("p", { class: "todo-empty" }, t(`todos.empty.${col.kind}`))));
  }

  function createForm() {
    const input = el("input", { name: "content", type: "text", maxlength: TEAM_LIMITS.todoMax, required: true,
                                autocomplete: "off", placeholder: t("todos.newPlaceholder"),
                                "aria-label": t("todos.content") });
    const pick = selectField({ name: "milestone_id", label: t("todos.milestone"),
                               options: [["", t("todos.noMilestone")], ...milestones.map((m) => [m.id, m.title])] });
    const form = el("form", { class: "todo-create", "aria-label": t("todos.new") },
      el("div", { class: "field todo-create-text", dataset: { field: "content" } }, input,
        el("p", { class: "field-message", "aria-live": "polite" })),
      pick,
      el("button", { type: "submit", class: "btn btn-primary" }, teamIcon("plus"), t("todos.add")),
      el("div", { class: "form-notice" }));
    onSubmit(form, async (values, { slot }) => {
      const body = { content: values.content.trim(), milestone_id: values.milestone_id ? Number(values.milestone_id) : null };
      await attempt(api.post(`${base}todos/`, body));
      input.value = "";
      setNotice(slot, null);
      await reload();
      say("success", t("todos.created", { content: body.content }));
      form.querySelector("input[name=content]").focus();
    }, { busyLabel: t("todos.adding"), validate: (v) => {
      const text = v.content.trim();
      return text && text.length <= TEAM_LIMITS.todoMax ? {} : { content: t("todos.rules.content", { max: TEAM_LIMITS.todoMax }) };
    } });
    return form;
  }

  function draw() {
    const scroller = boardEl.querySelector(".todo-scroller");
    const scrollLeft = scroller ? scroller.scrollLeft : 0;
    boardEl.replaceChildren(el("div", { class: "todo-scroller" }, columns().map(column)));
    boardEl.querySelector(".todo-scroller").scrollLeft = scrollLeft;
  }

  const drag = dragCards(boardEl, {
    check: (cardEl, columnEl) => {
      const todo = todos.find((x) => x.id === Number(cardEl.dataset.todoId));
      const col = columns().find((c) => c.key === columnEl.dataset.column);
      return todo && col ? dropProblem(todo, col, rules()) : "todos.rules.cannotMove";
    },
    drop: (cardEl, columnEl, index) => {
      const col = columns().find((c) => c.key === columnEl.dataset.column);
      if (col) dropTodo(cardEl, col, index);
    },
    refuse,
    onEnd: () => {
      if (pendingRefresh) refreshSoon();
    },
  });

  const refreshSoon = coalesce(() => {
    if (drag.active()) {
      pendingRefresh = true;
      return;
    }
    pendingRefresh = false;
    reload().catch(showError);
  });

  /** Live updates (realtime.js): todos and milestones refresh the board, member changes its columns. */
  function onTeamEvent(event) {
    if (isTeamGone(event, me())) {
      toast(t("teams.gone"), "warning");
      navigate("/teams");
    } else if (event.type === "resync" || event.type.startsWith("member.")) {
      loadTeam(teamId).then((fresh) => { ctx = fresh; refreshSoon(); }).catch(showError);
    } else if (event.type.startsWith("todo.") || event.type.startsWith("milestone.")) {
      refreshSoon();
    }
  }

  pageTitle(`${t("todos.title")} · ${ctx.team.name}`);
  root.replaceChildren(el("div", { class: "container team-page", dataset: { page: "todos" } },
    teamHeader(ctx.team, "todos"),
    el("div", { class: "board-toolbar" },
      el("div", {}, el("h2", { class: "board-title" }, t("todos.title")),
        el("p", { class: "muted board-lead" }, ctx.isHost ? t("todos.leadHost") : t("todos.leadMember"))),
      el("button", { type: "button", class: "btn btn-ghost btn-sm", onclick: () => reloadAll().then(
        () => say("success", t("todos.refreshed")), showError) }, t("common.refresh"))),
    createForm(), status, boardEl));
  draw();
  const stop = watchTeam(teamId, onTeamEvent);
  return () => {
    stop();
    drag.cancel();
    refreshSoon.cancel();
    closeDialogs();
  };
}
