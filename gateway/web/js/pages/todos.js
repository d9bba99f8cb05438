/**
 * /teams/:teamId/todos: the todo board — backlog → one column per member → done. Cards move by drag and
 * drop (todos/drag.js) only where the rules allow (team-rules.js dropProblem, the server stays the
 * authority): the card lands at once, shows that it is saving, and goes back with the error if the server
 * refuses. New todos, text edits, milestone links, reordering and deleting live in the card's dialog.
 *
 * The page's parts: todos/board.js (state and moves), todos/cards.js (columns and cards),
 * todos/create-form.js, todos/dialog.js (a card's actions), todos/drag.js (pointer drag and drop) and
 * todos/dropping.js (what a drop does).
 */

import { closeDialogs } from "../dialogs.js";
import { el, pageTitle, setNotice, toast } from "../dom.js";
import { t } from "../i18n.js";
import { navigate } from "../router.js";
import { isTeamGone, loadTeam, teamError, teamFailure, teamHeader, teamLoading, watchTeam } from "../team-common.js";
import { coalesce } from "../timing.js";
import { loadBoard } from "./todos/board.js";
import { column } from "./todos/cards.js";
import { createForm } from "./todos/create-form.js";
import { todoDialog } from "./todos/dialog.js";
import { dropOptions } from "./todos/dropping.js";
import { dragCards } from "./todos/drag.js";

export async function render(root, { teamId }) {
  pageTitle(t("todos.title"));
  root.append(teamLoading());
  let board;
  try {
    board = await loadBoard(teamId);
  } catch (err) {
    teamFailure(root, err);
    return undefined;
  }
  const status = el("p", { class: "board-status", "aria-live": "polite" });
  const boardEl = el("div", { class: "todo-board" });
  const say = (kind, message) => setNotice(status, kind, message);
  const showError = (err) => say("error", teamError(err));

  function draw() {
    const scroller = boardEl.querySelector(".todo-scroller");
    const scrollLeft = scroller ? scroller.scrollLeft : 0;
    boardEl.replaceChildren(el("div", { class: "todo-scroller" }, board.columns.map((col) => column(col, view))));
    boardEl.querySelector(".todo-scroller").scrollLeft = scrollLeft;
  }

  async function reload() {
    await board.reload();
    draw();
  }

  board.refresh = () => reload().catch(showError);  // for the card dialog
  const view = { board, say, showError, draw, afterMove: reload, openDialog: (todo) => todoDialog(todo, board) };
  let pendingRefresh = false;
  const drag = dragCards(boardEl, {
    ...dropOptions(boardEl, view),
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
    if (isTeamGone(event, board.me)) {
      toast(t("teams.gone"), "warning");
      navigate("/teams");
    } else if (event.type === "resync" || event.type.startsWith("member.")) {
      loadTeam(teamId).then((fresh) => { board.ctx = fresh; refreshSoon(); }).catch(showError);
    } else if (event.type.startsWith("todo.") || event.type.startsWith("milestone.")) {
      refreshSoon();
    }
  }

  pageTitle(`${t("todos.title")} · ${board.ctx.team.name}`);
  root.replaceChildren(el("div", { class: "container team-page", dataset: { page: "todos" } },
    teamHeader(board.ctx.team, "todos"),
    el("div", { class: "board-toolbar" },
      el("div", {}, el("h2", { class: "board-title" }, t("todos.title")),
        el("p", { class: "muted board-lead" }, board.isHost ? t("todos.leadHost") : t("todos.leadMember"))),
      el("button", { type: "button", class: "btn btn-ghost btn-sm", onclick: () => board.reloadTeam().then(reload).then(
        () => say("success", t("todos.refreshed")), showError) }, t("common.refresh"))),
    createForm(view), status, boardEl));
  draw();
  const stop = watchTeam(teamId, onTeamEvent);
  return () => {
    stop();
    drag.cancel();
    refreshSoon.cancel();
    closeDialogs();
  };
}
