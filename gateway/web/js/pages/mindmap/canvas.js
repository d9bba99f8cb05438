/**
 * The mind-map canvas: an SVG of nodes and links over a 10000 × 10000 area, with pan (drag the
 * background), zoom (wheel, pinch-free buttons), double-click to add a node, drag a node to move it (a live
 * preview goes to peers while dragging; one write on drop), click to select, and the peers' cursors.
 *
 *   const canvas = mindmapCanvas(model, handlers)   handlers: create(x, y), move(node, x, y), select(sel),
 *                                                   link(sourceId, targetId), cursor(x, y), drag(node, x, y),
 *                                                   keyboard: {addChild(node), addSibling(node), rename(id, title),
 *                                                              remove(selection)}
 *   canvas.element / redraw() / redrawNode(id) / select({kind, id}) / setLinkMode(on) / zoomBy(f) / fit()
 *   canvas.editTitle(id) — the in-place title editor (keyboard-first editing: see the keydown handler)
 *   Ctrl+drag from an idea to another links them.
 *   canvas.peerCursor(frame) / peerDrag(frame) / forgetPeers(connections)
 */

import { el } from "../../dom.js";
import { t, tn } from "../../i18n.js";
import { CANVAS_SIZE } from "./model.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const NODE_W = 168;
const NODE_H = 60;
const TITLE_CHARS = 18;
const TITLE_MAX = 64;
const SEND_EVERY_MS = 50;  // cursor and drag previews: at most 20 a second (the server allows 30)
const DRAG_THRESHOLD_PX = 4;
const PEER_IDLE_MS = 5_000;  // a cursor or drag preview with no news for this long disappears
const ZOOM_MIN = 0.15;
const ZOOM_MAX = 3;

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) node.setAttribute(key, String(value));
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

function shorten(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function throttle(fn, waitMs) {
  let last = 0;
  let timer = null;
  let pending = null;
  return (...args) => {
    pending = args;
    const wait = last + waitMs - Date.now();
    if (wait <= 0) {
      last = Date.now();
      fn(...pending);
    } else if (!timer) {
      timer = setTimeout(() => {
        timer = null;
        last = Date.now();
        fn(...pending);
      }, wait);
    }
  };
}

export function mindmapCanvas(model, handlers) {
  const view = { x: 40, y: 40, scale: 0.5 };
  let selection = null;
  let linkMode = false;
  const previews = new Map();  // node id → {x, y, by, at}: peers dragging
  const cursors = new Map();  // connection → {x, y, name, userId, at}

  const linksLayer = svg("g", { class: "mm-links" });
  const nodesLayer = svg("g", { class: "mm-nodes" });
  const cursorsLayer = svg("g", { class: "mm-cursors", "aria-hidden": "true" });
  const viewport = svg("g", { class: "mm-viewport" },
    svg("rect", { class: "mm-area", x: 0, y: 0, width: CANVAS_SIZE, height: CANVAS_SIZE }),
    linksLayer, nodesLayer, cursorsLayer);
  const background = svg("rect", { class: "mm-bg", width: "100%", height: "100%" });
  const canvas = svg("svg", { class: "mm-canvas", role: "application", tabindex: 0,
                              "aria-label": t("mindmap.canvasLabel") }, background, viewport);
  const element = el("div", { class: "mm-stage" }, canvas);

  const sendCursor = throttle((x, y) => handlers.cursor(x, y), SEND_EVERY_MS);
  const sendDrag = throttle((node, x, y) => handlers.drag(node, x, y), SEND_EVERY_MS);

  function applyView() {
    viewport.setAttribute("transform", `translate(${view.x} ${view.y}) scale(${view.scale})`);
    canvas.dataset.scale = view.scale.toFixed(3);
  }

  function toWorld(event) {
    const box = canvas.getBoundingClientRect();
    return { x: (event.clientX - box.left - view.x) / view.scale, y: (event.clientY - box.top - view.y) / view.scale };
  }

  function positionOf(node) {
    if (gesture?.kind === "node" && gesture.node.id === node.id && gesture.at) return gesture.at;
    const preview = previews.get(node.id);
    return preview ? { x: preview.x, y: preview.y } : { x: node.x, y: node.y };
  }

  function nodeElement(node) {
    const { x, y } = positionOf(node);
    const group = svg("g", {
      class: ["mm-node", selection?.kind === "node" && selection.id === node.id ? "is-selected" : "",
              previews.has(node.id) ? "is-peer-dragging" : "", node.voted ? "is-voted" : ""].filter(Boolean).join(" "),
      transform: `translate(${x} ${y})`, tabindex: selection?.kind === "node" && selection.id === node.id ? 0 : -1,
      role: "button",
      "data-node-id": node.id, "data-title": node.title, "data-x": x, "data-y": y,
      "aria-label": t("mindmap.nodeLabel", { title: node.title, votes: tn("mindmap.voteCount", node.vote_count),
                                              comments: tn("mindmap.comments", node.comment_count) }),
    },
    svg("rect", { x: -NODE_W / 2, y: -NODE_H / 2, width: NODE_W, height: NODE_H, rx: 12, fill: node.color }),
    svg("text", { class: "mm-node-title", x: 0, y: -4, "text-anchor": "middle" }, shorten(node.title, TITLE_CHARS)),
    svg("text", { class: "mm-node-meta", x: 0, y: 18, "text-anchor": "middle" },
      `${tn("mindmap.voteCount", node.vote_count)} · ${tn("mindmap.comments", node.comment_count)}`));
    const preview = previews.get(node.id);
    if (preview) {
      group.append(svg("text", { class: "mm-node-by", x: 0, y: -NODE_H / 2 - 8, "text-anchor": "middle" },
        t("mindmap.movedBy", { name: preview.name })));
    }
    return group;
  }

  function linkElement(link) {
    const source = model.nodes.get(link.source_id);
    const target = model.nodes.get(link.target_id);
    if (!source || !target) return null;
    const a = positionOf(source);
    const b = positionOf(target);
    const selected = selection?.kind === "link" && selection.id === link.id;
    return svg("g", { class: `mm-link${selected ? " is-selected" : ""}`, "data-link-id": link.id },
      svg("line", { class: "mm-link-hit", x1: a.x, y1: a.y, x2: b.x, y2: b.y }),
      svg("line", { class: "mm-link-line", x1: a.x, y1: a.y, x2: b.x, y2: b.y }));
  }

  function redrawLinks() {
    linksLayer.replaceChildren(...[...model.links.values()].map(linkElement).filter(Boolean));
  }

  function redraw() {
    const focused = canvas.contains(document.activeElement);
    nodesLayer.replaceChildren(...[...model.nodes.values()].map(nodeElement));
    redrawLinks();
    redrawn(focused);
  }

  function redrawNode(id) {
    const focused = canvas.contains(document.activeElement);
    const old = nodesLayer.querySelector(`[data-node-id="${id}"]`);
    const node = model.nodes.get(id);
    if (node && old) old.replaceWith(nodeElement(node));
    else if (node) nodesLayer.append(nodeElement(node));
    else if (old) old.remove();
    redrawLinks();
    redrawn(focused);
  }

  /** Keyboard focus stays on the selected node across redraws (or on the canvas). */
  function keepFocus(focused) {
    if (!focused || canvas.contains(document.activeElement)) return;
    const target = selection?.kind === "node" ? nodesLayer.querySelector(`[data-node-id="${selection.id}"]`) : null;
    (target || canvas).focus({ preventScroll: true });
  }

  function redrawn(focused = false) {
    keepFocus(focused);
    canvas.dataset.nodes = String(model.nodes.size);
    canvas.dataset.version = String(model.version);
    if (gesture?.kind === "node") {  // a node being dragged here keeps following the pointer
      gesture.el = nodesLayer.querySelector(`[data-node-id="${gesture.node.id}"]`) || gesture.el;
      if (gesture.moved) gesture.el.classList.add("is-dragging");
    }
  }

  function redrawCursors() {
    const now = Date.now();
    cursorsLayer.replaceChildren(...[...cursors.entries()].filter(([, c]) => now - c.at < PEER_IDLE_MS)
      .map(([connection, c]) => svg("g", { class: "mm-cursor", transform: `translate(${c.x} ${c.y})`,
                                           "data-user-id": c.userId, "data-connection": connection },
        svg("path", { d: "M0 0 L0 26 L7 19 L12 30 L17 28 L12 17 L22 17 Z", transform: `scale(${1 / view.scale})` }),
        svg("text", { x: 14 / view.scale, y: 40 / view.scale, style: `font-size:${13 / view.scale}px` }, c.name))));
  }

  // pan, drag, select, link

  let gesture = null;
  canvas.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    const nodeEl = event.target.closest(".mm-node");
    const linkEl = event.target.closest(".mm-link");
    if (nodeEl && (event.ctrlKey || event.metaKey)) {  // Ctrl+drag from one idea to another links them
      gesture = { kind: "linkdrag", from: Number(nodeEl.dataset.nodeId) };
      element.classList.add("is-linking");
    } else if (nodeEl) {
      const node = model.nodes.get(Number(nodeEl.dataset.nodeId));
      const start = toWorld(event);
      gesture = { kind: "node", node, start, origin: { x: node.x, y: node.y }, moved: false, el: nodeEl,
                  screen: { x: event.clientX, y: event.clientY } };
    } else if (linkEl) {
      gesture = { kind: "link", id: Number(linkEl.dataset.linkId) };
    } else {
      gesture = { kind: "pan", from: { x: event.clientX - view.x, y: event.clientY - view.y }, moved: false,
                  screen: { x: event.clientX, y: event.clientY } };
    }
  });

  canvas.addEventListener("pointermove", (event) => {
    const world = toWorld(event);
    sendCursor(Math.round(world.x), Math.round(world.y));
    if (!gesture || gesture.kind === "link" || gesture.kind === "linkdrag") return;
    if (!gesture.moved) {
      if (Math.hypot(event.clientX - gesture.screen.x, event.clientY - gesture.screen.y) <= DRAG_THRESHOLD_PX) return;
      gesture.moved = true;
      canvas.setPointerCapture(event.pointerId);  // only once it moves: a click keeps its target
    }
    if (gesture.kind === "pan") {
      view.x = event.clientX - gesture.from.x;
      view.y = event.clientY - gesture.from.y;
      applyView();
      return;
    }
    const x = clamp(Math.round(gesture.origin.x + world.x - gesture.start.x));
    const y = clamp(Math.round(gesture.origin.y + world.y - gesture.start.y));
    gesture.at = { x, y };
    gesture.el.setAttribute("transform", `translate(${x} ${y})`);
    gesture.el.classList.add("is-dragging");
    moveLinksOf(gesture.node.id, x, y);
    sendDrag(gesture.node, x, y);
  });

  function finish(event) {
    const done = gesture;
    gesture = null;
    if (!done) return;
    if (canvas.hasPointerCapture?.(event.pointerId)) canvas.releasePointerCapture(event.pointerId);
    if (done.kind === "linkdrag") {
      element.classList.toggle("is-linking", linkMode);
      const target = document.elementFromPoint(event.clientX, event.clientY)?.closest?.(".mm-node");
      const to = target ? Number(target.dataset.nodeId) : null;
      if (to && to !== done.from && event.type === "pointerup") handlers.link(done.from, to);
    } else if (done.kind === "node" && done.moved && done.at) {
      handlers.move(done.node, done.at.x, done.at.y);
    } else if (done.kind === "node") {
      if (linkMode && selection?.kind === "node" && selection.id !== done.node.id) {
        handlers.link(selection.id, done.node.id);
      } else {
        select({ kind: "node", id: done.node.id });
      }
    } else if (done.kind === "link") {
      select({ kind: "link", id: done.id });
    } else if (done.kind === "pan" && !done.moved && event.type === "pointerup") {
      select(null);
    }
  }
  canvas.addEventListener("pointerup", finish);
  canvas.addEventListener("pointercancel", finish);

  canvas.addEventListener("dblclick", (event) => {
    if (event.target.closest(".mm-node, .mm-link")) return;
    const { x, y } = toWorld(event);
    handlers.create(clamp(Math.round(x)), clamp(Math.round(y)));
  });

  canvas.addEventListener("wheel", (event) => {
    event.preventDefault();
    const box = canvas.getBoundingClientRect();
    zoomAround(Math.exp(-event.deltaY * 0.0015), event.clientX - box.left, event.clientY - box.top);
  }, { passive: false });

  // Keyboard first: arrows move the selection, Tab adds a child, Enter a sibling, F2 or typing edits the title
  // in place, Delete removes the selected idea or link, Escape lets go (then Tab leaves the canvas).
  const ARROWS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
  const keys = handlers.keyboard || {};

  function selectedNode() {
    return selection?.kind === "node" ? model.nodes.get(selection.id) : null;
  }

  /** The closest idea in a direction (straight ahead preferred), or the one nearest the view's centre. */
  function nearest(from, [dx, dy]) {
    const box = canvas.getBoundingClientRect();
    const origin = from || { x: (box.width / 2 - view.x) / view.scale, y: (box.height / 2 - view.y) / view.scale };
    let best = null;
    let bestScore = Infinity;
    for (const node of model.nodes.values()) {
      if (from && node.id === from.id) continue;
      const vx = node.x - origin.x;
      const vy = node.y - origin.y;
      const along = from ? vx * dx + vy * dy : 1;
      if (along <= 0) continue;
      const score = from ? along + 2 * Math.abs(vx * dy - vy * dx) : Math.hypot(vx, vy);
      if (score < bestScore) [best, bestScore] = [node, score];
    }
    return best;
  }

  function focusNode(id) {
    nodesLayer.querySelector(`[data-node-id="${id}"]`)?.focus({ preventScroll: true });
  }

  /** Edit an idea's title on the canvas: Enter or leaving saves, Escape cancels, Tab saves and adds a child. */
  function editTitle(id, typed = null) {
    const group = nodesLayer.querySelector(`[data-node-id="${id}"]`);
    const node = model.nodes.get(id);
    if (!group || !node) return;
    element.querySelector(".mm-inplace")?.remove();
    const box = group.querySelector("rect").getBoundingClientRect();
    const stage = element.getBoundingClientRect();
    const input = el("input", {
      type: "text", class: "mm-inplace", maxlength: TITLE_MAX, value: typed ?? node.title, autocomplete: "off",
      "aria-label": t("mindmap.nodeTitle"),
      style: `left:${box.left - stage.left}px; top:${box.top - stage.top + box.height / 2 - 18}px; width:${Math.max(box.width, 140)}px`,
    });
    element.append(input);
    input.focus({ preventScroll: true });
    if (typed === null) input.select();
    let done = false;
    const finish = (save, then = null) => {
      if (done) return;
      done = true;
      const title = input.value.trim();
      input.remove();
      focusNode(id);
      if (save && title && title !== node.title) keys.rename?.(id, title);
      if (then) then();
    };
    input.addEventListener("keydown", (event) => {
      event.stopPropagation();
      if (event.key === "Enter") {
        event.preventDefault();
        finish(true);
      } else if (event.key === "Escape") {
        event.preventDefault();
        finish(false);
      } else if (event.key === "Tab" && !event.shiftKey) {
        event.preventDefault();
        finish(true, () => keys.addChild?.(model.nodes.get(id)));
      }
    });
    input.addEventListener("blur", () => finish(true));
  }

  canvas.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const nodeEl = event.target.closest?.(".mm-node");
    const node = selectedNode();
    const { key } = event;
    if (ARROWS[key]) {
      event.preventDefault();
      const next = nearest(node, ARROWS[key]);
      if (next) {
        select({ kind: "node", id: next.id });
        focusNode(next.id);
      }
    } else if (key === "Tab" && node && !event.shiftKey && keys.addChild) {
      event.preventDefault();
      keys.addChild(node);
    } else if (key === "Enter" && node && keys.addSibling) {
      event.preventDefault();
      keys.addSibling(node);
    } else if (key === "Enter" && nodeEl) {
      select({ kind: "node", id: Number(nodeEl.dataset.nodeId) });
    } else if (key === "F2" && node) {
      event.preventDefault();
      editTitle(node.id);
    } else if ((key === "Delete" || key === "Backspace") && selection && keys.remove) {
      event.preventDefault();
      keys.remove(selection);
    } else if (key === "Escape") {
      setLinkMode(false);
      select(null);
      canvas.focus({ preventScroll: true });
    } else if (key === "+" || key === "=") {
      zoomBy(1.2);
    } else if (key === "-") {
      zoomBy(1 / 1.2);
    } else if (node && /^[\p{L}\p{N}]$/u.test(key)) {  // typing on a selected idea starts a new title
      event.preventDefault();
      editTitle(node.id, key);
    }
  });

  function moveLinksOf(nodeId, x, y) {
    for (const line of linksLayer.querySelectorAll(".mm-link")) {
      const link = model.links.get(Number(line.dataset.linkId));
      if (!link) continue;
      for (const part of line.querySelectorAll("line")) {
        if (link.source_id === nodeId) { part.setAttribute("x1", x); part.setAttribute("y1", y); }
        if (link.target_id === nodeId) { part.setAttribute("x2", x); part.setAttribute("y2", y); }
      }
    }
  }

  function clamp(value) {
    return Math.min(CANVAS_SIZE, Math.max(0, value));
  }

  function zoomAround(factor, px, py) {
    const scale = Math.min(ZOOM_MAX, Math.max(ZOOM_MIN, view.scale * factor));
    view.x = px - ((px - view.x) * scale) / view.scale;
    view.y = py - ((py - view.y) * scale) / view.scale;
    view.scale = scale;
    applyView();
    redrawCursors();
  }

  function zoomBy(factor) {
    const box = canvas.getBoundingClientRect();
    zoomAround(factor, box.width / 2, box.height / 2);
  }

  /** Show every node (or the middle of the canvas when there is none). */
  function fit() {
    const box = canvas.getBoundingClientRect();
    const nodes = [...model.nodes.values()];
    const xs = nodes.length ? nodes.map((n) => n.x) : [CANVAS_SIZE / 2];
    const ys = nodes.length ? nodes.map((n) => n.y) : [CANVAS_SIZE / 2];
    const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const width = Math.max(maxX - minX + NODE_W * 2, 600);
    const height = Math.max(maxY - minY + NODE_H * 4, 400);
    view.scale = Math.min(1, Math.max(ZOOM_MIN, Math.min((box.width || 800) / width, (box.height || 500) / height)));
    view.x = (box.width || 800) / 2 - ((minX + maxX) / 2) * view.scale;
    view.y = (box.height || 500) / 2 - ((minY + maxY) / 2) * view.scale;
    applyView();
  }

  function select(next) {
    selection = next;
    redraw();
    handlers.select(next);
  }

  function setLinkMode(on) {
    linkMode = on;
    element.classList.toggle("is-linking", on);
  }

  /** Peers: a cursor moved, a node is being dragged, connections went away. */
  function peerCursor(frame) {
    const { x, y } = frame.data || {};
    const connection = frame.from.connection;
    if (typeof x !== "number" || typeof y !== "number") cursors.delete(connection);
    else cursors.set(connection, { x, y, name: frame.from.nickname, userId: frame.from.user_id, at: Date.now() });
    redrawCursors();
  }

  function peerDrag(frame) {
    const { node_id: id, x, y } = frame.data || {};
    if (!model.nodes.has(id) || typeof x !== "number" || typeof y !== "number") return;
    previews.set(id, { x, y, name: frame.from.nickname, at: Date.now() });
    redrawNode(id);
  }

  function settle(id) {
    if (previews.delete(id)) redrawNode(id);
  }

  function forgetPeers(liveConnections) {
    for (const connection of cursors.keys()) if (!liveConnections.has(connection)) cursors.delete(connection);
    redrawCursors();
  }

  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [id, preview] of previews) if (now - preview.at > PEER_IDLE_MS) settle(id);
    redrawCursors();
  }, 1_000);

  applyView();
  redraw();
  return {
    element, redraw, redrawNode, select, setLinkMode, zoomBy, fit, peerCursor, peerDrag, settle, forgetPeers, editTitle,
    get selection() { return selection; },
    get linkMode() { return linkMode; },
    destroy() { clearInterval(sweep); },
  };
}
