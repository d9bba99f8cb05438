/**
 * /teams/:teamId/mindmaps/:mapId: one mind map, edited together live.
 *
 * The page loads the snapshot, then subscribes to mindmap.<id> from the snapshot's version (realtime.js
 * replays what happened in between and keeps the order). Every change goes through the REST API; the
 * events (own ones included) update the model. Peers' cursors and drag previews travel as ephemeral
 * messages; presence lists who is here. The connection state shows above the canvas, with a way to
 * reconnect at once; after a reconnect the map resumes from its version, or refetches the snapshot.
 */

import { api } from "../api.js";
import { el, fill, notice, pageTitle, toast } from "../dom.js";
import { t } from "../i18n.js";
import { navigate } from "../router.js";
import { loadTeam, teamError, teamFailure, teamHeader, teamLoading } from "../team-common.js";
import { connectionState, onStateChange, publish, reconnect, subscribe } from "../realtime.js";
import { mindmapCanvas } from "./mindmap/canvas.js";
import { CANVAS_SIZE, MindMapModel } from "./mindmap/model.js";
import { mindmapPanel } from "./mindmap/panel.js";
import { closeDialogs } from "../dialogs.js";

const STATES = {
  connecting: "mindmap.stateConnecting", open: "mindmap.stateOpen", reconnecting: "mindmap.stateReconnecting",
  offline: "mindmap.stateOffline", expired: "mindmap.stateExpired",
};

export async function render(root, { teamId, mapId }) {
  pageTitle(t("mindmap.title"));
  root.append(teamLoading());
  const base = `teams/${encodeURIComponent(teamId)}/mindmaps/${encodeURIComponent(mapId)}/`;
  let ctx;
  let snapshot;
  try {
    [ctx, snapshot] = await Promise.all([loadTeam(teamId), api.get(base)]);
  } catch (err) {
    teamFailure(root, err);
    return undefined;
  }
  const channel = `mindmap.${snapshot.id}`;
  const model = new MindMapModel(snapshot, ctx.me?.id);
  const status = el("div", { class: "mm-status", "aria-live": "polite" });

  const canvas = mindmapCanvas(model, {
    create: (x, y) => act(async () => {
      const node = await api.post(`${base}nodes/`, { title: t("mindmap.newNode"), x, y });
      model.remember(node);
      canvas.redrawNode(node.id);
      canvas.select({ kind: "node", id: node.id });
      panel.element.querySelector("input[name=title]")?.select();
    }),
    move: (node, x, y) => {
      const known = model.nodes.get(node.id);
      const before = known ? { x: known.x, y: known.y } : null;
      if (known) Object.assign(known, { x, y });  // lands at once; the event confirms it
      canvas.redrawNode(node.id);
      return act(async () => {
        model.remember(await api.patch(`${base}nodes/${node.id}/`, { x, y }));
      }, () => canvas.redrawNode(node.id), () => {
        if (known && before) Object.assign(known, before);
        publish(channel, "drag", { node_id: node.id, done: true });  // peers drop their preview
      });
    },
    link: (source, target) => act(async () => {
      canvas.setLinkMode(false);
      if (model.linkBetween(source, target)) throw Object.assign(new Error("linked"), { said: t("mindmap.alreadyLinked") });
      await api.post(`${base}links/`, { source_id: source, target_id: target });
    }),
    select: (selection) => {
      canvas.setLinkMode(false);
      panel.show(selection);
    },
    cursor: (x, y) => publish(channel, "cursor", { x, y }),
    drag: (node, x, y) => publish(channel, "drag", { node_id: node.id, x, y }),
    keyboard: {
      addChild: (parent) => addIdea(parent, { x: parent.x + 240, y: parent.y + 90 * childrenOf(parent.id).length }),
      addSibling: (node) => {
        const parent = parentOf(node.id);
        return addIdea(parent, { x: node.x, y: node.y + 90 });
      },
      rename: (id, title) => act(async () => {
        model.remember(await api.patch(`${base}nodes/${id}/`, { title }));
        canvas.redrawNode(id);
        panel.changed({ kind: "node", id });
        announce(t("mindmap.renamed", { title }));
      }),
      remove: (selection) => act(async () => {
        if (selection.kind === "link") {
          await api.delete(`${base}links/${selection.id}/`);
          announce(t("mindmap.linkDeleted"));
          return;
        }
        const node = model.nodes.get(selection.id);
        const next = parentOf(selection.id);
        await api.delete(`${base}nodes/${selection.id}/`);
        announce(t("mindmap.nodeDeleted", { title: node?.title ?? "" }));
        canvas.select(next ? { kind: "node", id: next.id } : null);
      }),
    },
  });
  const announcer = el("p", { class: "visually-hidden mm-announcer", role: "status", "aria-live": "polite" });
  const announce = (text) => { announcer.textContent = text; };
  const childrenOf = (id) => [...model.links.values()].filter((l) => l.source_id === id);
  const parentOf = (id) => {
    const link = [...model.links.values()].find((l) => l.target_id === id);
    return link ? model.nodes.get(link.source_id) : null;
  };
  /** A new idea (linked under `parent` when there is one), selected, its title edited in place. */
  function addIdea(parent, { x, y }) {
    const clamp = (v) => Math.min(CANVAS_SIZE, Math.max(0, Math.round(v)));
    return act(async () => {
      const node = await api.post(`${base}nodes/`, { title: t("mindmap.newNode"), x: clamp(x), y: clamp(y) });
      model.remember(node);
      if (parent) await api.post(`${base}links/`, { source_id: parent.id, target_id: node.id });
      canvas.redrawNode(node.id);
      canvas.select({ kind: "node", id: node.id });
      canvas.editTitle(node.id);
      announce(parent ? t("mindmap.addedUnder", { title: parent.title }) : t("mindmap.added"));
    });
  }
  const panel = mindmapPanel({
    model, ctx, base,
    onLink: () => {
      canvas.setLinkMode(true);
      toast(t("mindmap.pickTarget"), "info");
    },
    onSaved: (id) => canvas.redrawNode(id),
    onClose: () => { canvas.select(null); canvas.element.querySelector(".mm-canvas")?.focus(); },
  });

  /** Run an API action; a failure is shown (after `undo`), and `always` runs either way (to redraw). */
  async function act(action, always = null, undo = null) {
    try {
      await action();
    } catch (err) {
      if (undo) undo();
      toast(err.said || teamError(err), "error");
    } finally {
      if (always) always();
    }
  }

  function onEvent(frame) {
    const change = model.apply(frame);
    if (!change) return;
    if (change.kind === "map") {
      stopAll();
      root.querySelector(".mm-layout")?.replaceWith(notice("warning", el("p", {}, t("mindmap.deleted")),
        el("a", { href: `/teams/${teamId}/mindmaps`, class: "btn btn-secondary btn-sm" }, t("mindmap.backToList"))));
      return;
    }
    if (change.kind === "node") {
      canvas.settle(change.id);
      canvas.redrawNode(change.id);
    } else {
      canvas.redraw();
    }
    panel.changed(change);
  }

  async function resync() {
    const fresh = await api.get(base);
    model.load(fresh);
    canvas.redraw();
    panel.show(canvas.selection);
    return fresh.version;
  }

  const presenceList = el("ul", { class: "mm-presence", "aria-label": t("mindmap.presence") });
  function onPresence(members) {
    fill(presenceList, members.map((m) => el("li", { class: "mm-person", dataset: { userId: m.user_id } },
      el("span", { class: "avatar", "aria-hidden": "true" }, (m.nickname || "?").slice(0, 1)),
      el("span", {}, m.user_id === ctx.me?.id ? t("mindmap.you", { name: m.nickname }) : m.nickname),
      m.connections > 1 ? el("span", { class: "muted" }, ` ×${m.connections}`) : null)));
  }

  function onMessage(frame) {
    if (frame.type === "cursor") canvas.peerCursor(frame);
    else if (frame.type === "drag" && frame.data?.done) canvas.settle(frame.data.node_id);
    else if (frame.type === "drag") canvas.peerDrag(frame);
  }

  function onEnd(reason) {
    stopAll();
    const text = reason === "deleted" ? t("mindmap.deleted") : t("mindmap.noLongerMember");
    root.querySelector(".mm-layout")?.replaceWith(notice("warning", el("p", {}, text)));
    if (reason !== "deleted") setTimeout(() => navigate("/teams"), 3_000);
  }

  function showState(state) {
    const retry = state === "reconnecting" || state === "offline"
      ? el("button", { type: "button", class: "btn btn-ghost btn-sm", onclick: reconnect }, t("mindmap.reconnectNow"))
      : null;
    fill(status, el("span", { class: "mm-state", dataset: { state } }, el("span", { class: "mm-dot" }),
      t(STATES[state] || "mindmap.stateConnecting")), retry);
  }

  const unsubscribe = subscribe(channel, onEvent, { since: snapshot.version, resync, onPresence, onMessage, onEnd });
  const stopState = onStateChange(showState);
  showState(connectionState());
  function stopAll() {
    unsubscribe();
    stopState();
    canvas.destroy();
  }

  const zoom = (factor) => el("button", { type: "button", class: "btn btn-secondary btn-sm", onclick: () => canvas.zoomBy(factor),
                                          "aria-label": t(factor > 1 ? "mindmap.zoomIn" : "mindmap.zoomOut") },
    factor > 1 ? "+" : "−");
  pageTitle(`${snapshot.title} · ${ctx.team.name}`);
  root.replaceChildren(el("div", { class: "container team-page", dataset: { page: "mindmap", mapId: snapshot.id } },
    teamHeader(ctx.team, "mindmaps"),
    el("div", { class: "mm-toolbar" },
      el("p", { class: "breadcrumb" }, el("a", { href: `/teams/${teamId}/mindmaps` }, t("mindmap.backToList"))),
      el("h2", { class: "mm-title" }, snapshot.title), status, presenceList,
      el("div", { class: "mm-zoom row" }, zoom(1 / 1.25), zoom(1.25),
        el("button", { type: "button", class: "btn btn-secondary btn-sm", onclick: () => canvas.fit() }, t("mindmap.fit")))),
    el("p", { class: "mm-keys muted", id: `mm-keys-${snapshot.id}` }, t("mindmap.keysHelp")), announcer,
    el("div", { class: "mm-layout" }, canvas.element, panel.element)));
  canvas.element.querySelector(".mm-canvas")?.setAttribute("aria-describedby", `mm-keys-${snapshot.id}`);
  canvas.fit();
  return () => {
    stopAll();
    closeDialogs();
  };
}
