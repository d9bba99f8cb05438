/**
 * The todo board's state and rules of placement: the team, its todos and milestones, which column a
 * todo is in, and the API calls that move a todo between columns (the server stays the authority).
 *
 *   loadBoard(teamId) → board   {teamId, ctx, todos, milestones, me, isHost, columns, keyOf(todo),
 *                                columnTodos(key), rules(), milestoneTitle(id), memberIds(),
 *                                move(todo, column, index), reload(), reloadTeam()}
 */

import { api } from "../../api.js";
import { t } from "../../i18n.js";
import { loadTeam } from "../../team-common.js";

async function fetchAll(path) {
  const items = [];
  for (let page = 1; ; page += 1) {
    const data = await api.get(path, { query: { page, page_size: 100 } });
    items.push(...data.items);
    if (items.length >= data.total || !data.items.length) return items;
  }
}

const byPosition = (a, b) => a.position - b.position || a.id - b.id;

export async function loadBoard(teamId) {
  const base = `teams/${encodeURIComponent(teamId)}/`;
  const [ctx, todos, milestones] = await Promise.all([loadTeam(teamId), fetchAll(`${base}todos/`),
                                                      fetchAll(`${base}milestones/`)]);
  const board = {
    teamId, base, ctx, todos, milestones,
    get me() { return board.ctx.me?.id; },
    get isHost() { return board.ctx.isHost; },
    get columns() {
      return [
        { key: "backlog", kind: "backlog", title: t("todos.column.backlog") },
        ...board.ctx.members.map((m) => ({ key: `member-${m.user_id}`, kind: "member", userId: m.user_id,
                                           title: m.nickname || t("teams.formerMember"), role: m.role })),
        { key: "done", kind: "done", title: t("todos.column.done") },
      ];
    },
    memberIds: () => new Set(board.ctx.members.map((m) => m.user_id)),
    keyOf(todo) {
      if (todo.is_completed) return "done";
      if (todo.assignee_id === null || !board.memberIds().has(todo.assignee_id)) return "backlog";
      return `member-${todo.assignee_id}`;
    },
    columnTodos: (key) => board.todos.filter((todo) => board.keyOf(todo) === key).sort(byPosition),
    rules: () => ({ me: board.me, isHost: board.isHost }),
    milestoneTitle: (id) => board.milestones.find((m) => m.id === id)?.title,
    column: (key) => board.columns.find((c) => c.key === key),
    async reload() {
      [board.todos, board.milestones] = await Promise.all([fetchAll(`${base}todos/`), fetchAll(`${base}milestones/`)]);
    },
    async reloadTeam() {
      board.ctx = await loadTeam(teamId);
    },
    move: (todo, column, index) => moveTodo(board, todo, column, index),
  };
  return board;
}

/** The API calls that take a todo from its column to another, at `index` in the new column. */
async function moveTodo(board, todo, column, index) {
  const path = `${board.base}todos/${todo.id}/`;
  const from = board.keyOf(todo);
  if (from === column.key) {
    const current = board.columnTodos(from).findIndex((x) => x.id === todo.id);
    if (index !== current) await api.post(`${path}reorder/`, { position: index });
    return;
  }
  const length = board.columnTodos(column.key).length;
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
