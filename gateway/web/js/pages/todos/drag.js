/**
 * Drag and drop of cards between columns with pointer events, so mouse, touch and pen all work.
 *
 *   dragCards(board, {check, drop, refuse, onStart, onEnd})
 *
 * - A mouse drags a card from anywhere on it (not from its buttons); touch and pen drag only from the
 *   card's grip (.todo-grip), so swiping still scrolls the page.
 * - While a card moves, every column is marked: .drop-ok where check(card, column) returns null,
 *   .drop-no (with the reason in data-problem) elsewhere; a placeholder shows where the card would land.
 * - Releasing over an allowed column calls drop(card, column, index) (index among the column's other
 *   cards); over a refused column, refuse(card, column, problem); anywhere else, or Esc, cancels.
 * - The board's scroller scrolls sideways when the pointer nears its edges.
 */

const THRESHOLD_PX = 6;
const EDGE_PX = 56;
const SCROLL_STEP_PX = 14;

export function dragCards(board, { check, drop, refuse, onStart = () => {}, onEnd = () => {} }) {
  let drag = null;

  function columns() {
    return [...board.querySelectorAll(".todo-column")];
  }

  function columnAt(x, y) {
    const hit = document.elementFromPoint(x, y);
    return hit ? hit.closest(".todo-column") : null;
  }

  function begin() {
    const { card } = drag;
    const rect = card.getBoundingClientRect();
    drag.dx = drag.x0 - rect.left;
    drag.dy = drag.y0 - rect.top;
    drag.ghost = card.cloneNode(true);
    drag.ghost.classList.add("drag-ghost");
    drag.ghost.removeAttribute("id");
    drag.ghost.style.width = `${rect.width}px`;
    drag.placeholder = document.createElement("div");
    drag.placeholder.className = "todo-placeholder";
    drag.placeholder.style.height = `${rect.height}px`;
    document.body.append(drag.ghost);
    card.classList.add("drag-source");
    board.classList.add("is-dragging");
    for (const column of columns()) {
      const problem = check(card, column);
      column.classList.add(problem ? "drop-no" : "drop-ok");
      if (problem) column.dataset.problem = problem;
    }
    drag.started = true;
    onStart(card);
    tick();
  }

  function place(x, y) {
    drag.ghost.style.transform = `translate(${x - drag.dx}px, ${y - drag.dy}px)`;
    const column = columnAt(x, y);
    for (const each of columns()) each.classList.toggle("drop-hover", each === column);
    drag.column = column;
    if (!column || column.classList.contains("drop-no")) {
      drag.placeholder.remove();
      return;
    }
    const list = column.querySelector(".todo-list");
    const others = [...list.querySelectorAll(".todo-card:not(.drag-source)")];
    const before = others.find((other) => {
      const box = other.getBoundingClientRect();
      return y < box.top + box.height / 2;
    });
    if (before) list.insertBefore(drag.placeholder, before);
    else list.append(drag.placeholder);
  }

  function tick() {
    if (!drag || !drag.started) return;
    const scroller = board.querySelector(".todo-scroller") || board;
    const box = scroller.getBoundingClientRect();
    if (drag.x < box.left + EDGE_PX) scroller.scrollLeft -= SCROLL_STEP_PX;
    else if (drag.x > box.right - EDGE_PX) scroller.scrollLeft += SCROLL_STEP_PX;
    if (drag.y < EDGE_PX) window.scrollBy(0, -SCROLL_STEP_PX);
    else if (drag.y > window.innerHeight - EDGE_PX) window.scrollBy(0, SCROLL_STEP_PX);
    drag.frame = requestAnimationFrame(tick);
  }

  function indexOfPlaceholder(list) {
    let index = 0;
    for (const child of list.children) {
      if (child === drag.placeholder) return index;
      if (child.classList.contains("todo-card") && !child.classList.contains("drag-source")) index += 1;
    }
    return index;
  }

  function finish() {
    window.removeEventListener("pointermove", onMove);
    window.removeEventListener("pointerup", onUp);
    window.removeEventListener("pointercancel", onCancel);
    window.removeEventListener("keydown", onKey);
    if (drag && drag.started) {
      cancelAnimationFrame(drag.frame);
      drag.ghost.remove();
      drag.placeholder.remove();
      drag.card.classList.remove("drag-source");
      board.classList.remove("is-dragging");
      for (const column of columns()) {
        column.classList.remove("drop-ok", "drop-no", "drop-hover");
        delete column.dataset.problem;
      }
      onEnd(drag.card);
    }
    drag = null;
  }

  function onMove(event) {
    if (!drag || event.pointerId !== drag.id) return;
    drag.x = event.clientX;
    drag.y = event.clientY;
    if (!drag.started) {
      if (Math.hypot(drag.x - drag.x0, drag.y - drag.y0) < THRESHOLD_PX) return;
      begin();
    }
    event.preventDefault();
    place(drag.x, drag.y);
  }

  function onUp(event) {
    if (!drag || event.pointerId !== drag.id) return;
    if (!drag.started) {
      finish();
      return;
    }
    const { card, column } = drag;
    const placed = drag.placeholder.isConnected ? drag.placeholder.parentElement : null;
    const index = placed ? indexOfPlaceholder(placed) : -1;
    const problem = column && column.dataset.problem;
    finish();
    if (column && problem) refuse(card, column, problem);
    else if (column && placed) drop(card, column, index);
  }

  function onCancel() {
    finish();
  }

  function onKey(event) {
    if (event.key === "Escape") finish();
  }

  board.addEventListener("pointerdown", (event) => {
    if (drag || (event.pointerType === "mouse" && event.button !== 0)) return;
    const card = event.target.closest(".todo-card");
    if (!card || !board.contains(card) || card.classList.contains("is-saving") || card.dataset.draggable !== "true") {
      return;
    }
    const onGrip = Boolean(event.target.closest(".todo-grip"));
    if (event.pointerType !== "mouse" && !onGrip) return;
    if (!onGrip && event.target.closest("button, a, input, textarea, select")) return;
    if (event.pointerType === "mouse") event.preventDefault();  // no text selection while dragging
    drag = { card, id: event.pointerId, x0: event.clientX, y0: event.clientY, x: event.clientX, y: event.clientY,
             started: false, column: null };
    window.addEventListener("pointermove", onMove, { passive: false });
    window.addEventListener("pointerup", onUp);
    window.addEventListener("pointercancel", onCancel);
    window.addEventListener("keydown", onKey);
  });

  return { cancel: finish, active: () => Boolean(drag && drag.started) };
}
