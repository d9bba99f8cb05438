/**
 * The side panel of the mind-map canvas: what is selected and what can be done with it — edit a node's
 * title, content and colour (with its version: someone else's newer edit is never overwritten silently),
 * vote, link it to another node, delete it; read and write its comments; delete a link.
 *
 *   const panel = mindmapPanel({model, ctx, base, onLink, onSaved, onClose})   (onClose: the × of the panel)
 *   panel.element / panel.show(selection) / panel.changed(change)   (change: what MindMapModel.apply returned)
 */

import { api } from "../../api.js";
import { el, field, fill, onSubmit, setNotice, toast } from "../../dom.js";
import { formatDateTime, t, tn } from "../../i18n.js";
import { attempt, teamError } from "../../team-common.js";
import { confirmAction } from "../../dialogs.js";

const TITLE_MAX = 64;
const CONTENT_MAX = 2000;
const COMMENT_MAX = 1000;
const SWATCHES = ["#fde68a", "#fecaca", "#bbf7d0", "#bfdbfe", "#ddd6fe", "#fbcfe8", "#e5e7eb"];

export function mindmapPanel({ model, ctx, base, onLink, onSaved, onClose }) {
  const element = el("aside", { class: "mm-panel card", "aria-live": "polite" });
  let selection = null;
  let form = null;
  let dirty = false;
  let baseVersion = null;
  let comments = null;

  function help() {
    return el("div", { class: "mm-help" },
      el("h2", {}, t("mindmap.helpTitle")),
      el("ul", {}, ["mindmap.helpCreate", "mindmap.helpMove", "mindmap.helpPan", "mindmap.helpZoom",
                    "mindmap.helpLink"].map((key) => el("li", {}, t(key)))));
  }

  function nodeForm(node) {
    dirty = false;
    baseVersion = node.version;
    const color = el("input", { type: "color", name: "color", value: node.color, "aria-label": t("mindmap.color") });
    const swatches = el("div", { class: "mm-swatches" }, SWATCHES.map((swatch) => el("button", {
      type: "button", class: "mm-swatch", style: `background:${swatch}`, title: swatch, "aria-label": swatch,
      onclick: () => { color.value = swatch; dirty = true; },
    })));
    form = el("form", { class: "mm-node-form stack" },
      field({ name: "title", label: t("mindmap.nodeTitle"), value: node.title, required: true, maxlength: TITLE_MAX,
              autocomplete: "off" }),
      field({ name: "content", label: t("mindmap.nodeContent"), type: "textarea", value: node.content,
              maxlength: CONTENT_MAX, rows: 4 }),
      el("div", { class: "field mm-color-field" }, el("label", {}, t("mindmap.color")), el("div", { class: "row" }, color, swatches)),
      el("div", { class: "form-notice" }),
      el("div", { class: "form-actions" }, el("button", { type: "submit", class: "btn btn-primary btn-sm" }, t("common.save"))));
    form.addEventListener("input", () => { dirty = true; });
    onSubmit(form, async (values) => {
      const body = { title: values.title.trim(), content: values.content, color: values.color, version: baseVersion };
      try {
        const saved = await api.patch(`${base}nodes/${node.id}/`, body);
        model.remember(saved);
        dirty = false;
        baseVersion = saved.version;
        onSaved(saved.id);
        toast(t("mindmap.saved"), "success");
      } catch (err) {
        if (err.code !== "stale_version") throw err;
        const current = err.details?.[0]?.node;
        if (current) {
          model.remember(current);
          baseVersion = current.version;
          onSaved(current.id);
        }
        setNotice(form.querySelector(".form-notice"), "warning", t("mindmap.staleEdit", { title: current?.title ?? "" }));
      }
    }, {
      busyLabel: t("common.saving"),
      validate: ({ title }) => (title.trim() ? null : { title: t("mindmap.titleRequired") }),
    });
    return form;
  }

  function voteButton(node) {
    const button = el("button", { type: "button", class: `btn btn-sm ${node.voted ? "btn-primary" : "btn-secondary"}`,
                                  "aria-pressed": String(Boolean(node.voted)), dataset: { action: "vote" } },
      node.voted ? tn("mindmap.voted", node.vote_count) : tn("mindmap.vote", node.vote_count));
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const path = `${base}nodes/${node.id}/vote/`;
        const result = node.voted ? await api.delete(path) : await api.put(path);
        model.patchNode(node.id, { vote_count: result.vote_count, voted: result.voted });
        onSaved(node.id);
      } catch (err) {
        toast(teamError(err), "error");
        button.disabled = false;
      }
    });
    return button;
  }

  function nodeActions(node) {
    const remove = el("button", { type: "button", class: "btn btn-ghost btn-sm danger-link", dataset: { action: "delete-node" } },
      t("mindmap.deleteNode"));
    remove.addEventListener("click", () => confirmAction({ describe: teamError,
      title: t("mindmap.deleteNode"), message: t("mindmap.deleteNodeText", { title: node.title }),
      confirmLabel: t("mindmap.deleteNode"), busyLabel: t("mindmap.deleting"), danger: true,
      action: () => attempt(api.delete(`${base}nodes/${node.id}/`)),
    }));
    return el("div", { class: "mm-node-actions row" }, voteButton(node),
      el("button", { type: "button", class: "btn btn-secondary btn-sm", dataset: { action: "link" }, onclick: onLink },
        t("mindmap.connect")),
      remove);
  }

  function commentItem(node, comment) {
    const mine = comment.author_id === ctx.me?.id;
    const body = el("p", { class: "mm-comment-body" }, comment.body);
    const item = el("li", { class: "mm-comment", dataset: { commentId: comment.id } },
      el("p", { class: "mm-comment-meta muted" }, comment.author_nickname || t("teams.formerMember"), " · ",
        formatDateTime(comment.created_at)), body);
    const path = `${base}nodes/${node.id}/comments/${comment.id}/`;
    const actions = el("div", { class: "mm-comment-actions" });
    if (mine) {
      actions.append(el("button", { type: "button", class: "btn btn-ghost btn-sm", onclick: () => {
        const editor = el("form", { class: "stack" },
          field({ name: "body", label: t("mindmap.editComment"), type: "textarea", value: comment.body,
                  maxlength: COMMENT_MAX, rows: 2, required: true }),
          el("div", { class: "form-notice" }),
          el("div", { class: "form-actions" }, el("button", { type: "submit", class: "btn btn-primary btn-sm" }, t("common.save"))));
        onSubmit(editor, async (values) => { await attempt(api.patch(path, { body: values.body.trim() })); });
        body.replaceWith(editor);
      } }, t("mindmap.edit")));
    }
    if (mine || ctx.isHost) {
      actions.append(el("button", { type: "button", class: "btn btn-ghost btn-sm danger-link", onclick: async (event) => {
        event.currentTarget.disabled = true;
        try {
          await api.delete(path);
        } catch (err) {
          toast(teamError(err), "error");
        }
      } }, t("mindmap.deleteComment")));
    }
    item.append(actions);
    return item;
  }

  async function loadComments(node) {
    const list = comments;
    try {
      const data = await api.get(`${base}nodes/${node.id}/comments/`, { query: { page_size: 100 } });
      if (list !== comments) return;
      fill(list, data.items.length ? data.items.map((c) => commentItem(node, c))
        : el("li", { class: "muted" }, t("mindmap.noComments")));
    } catch (err) {
      if (list === comments) list.replaceChildren(el("li", { class: "muted" }, teamError(err)));
    }
  }

  function commentSection(node) {
    comments = el("ul", { class: "mm-comments" }, el("li", { class: "muted" }, t("common.loading")));
    const writer = el("form", { class: "mm-comment-form stack" },
      field({ name: "body", label: t("mindmap.addComment"), type: "textarea", maxlength: COMMENT_MAX, rows: 2,
              required: true }),
      el("div", { class: "form-notice" }),
      el("div", { class: "form-actions" }, el("button", { type: "submit", class: "btn btn-secondary btn-sm" }, t("mindmap.send"))));
    onSubmit(writer, async (values) => {
      await attempt(api.post(`${base}nodes/${node.id}/comments/`, { body: values.body.trim() }));
      writer.reset();
    }, { validate: ({ body }) => (body.trim() ? null : { body: t("mindmap.commentRequired") }) });
    loadComments(node);
    return el("section", { class: "mm-comments-section" },
      el("h3", {}, tn("mindmap.comments", node.comment_count)), comments, writer);
  }

  function linkView(link) {
    const name = (id) => model.nodes.get(id)?.title ?? "?";
    const remove = el("button", { type: "button", class: "btn btn-danger btn-sm", dataset: { action: "delete-link" } },
      t("mindmap.deleteLink"));
    remove.addEventListener("click", async () => {
      remove.disabled = true;
      try {
        await api.delete(`${base}links/${link.id}/`);
      } catch (err) {
        toast(teamError(err), "error");
        remove.disabled = false;
      }
    });
    return el("div", { class: "stack" }, el("h2", {}, t("mindmap.linkTitle")),
      el("p", {}, t("mindmap.linkBetween", { a: name(link.source_id), b: name(link.target_id) })), remove);
  }

  function closeButton() {
    return el("button", { type: "button", class: "btn btn-ghost btn-sm mm-panel-close", "aria-label": t("common.close"),
                          onclick: () => onClose?.() }, "×");
  }

  function show(next) {
    selection = next;
    element.classList.toggle("has-selection", Boolean(next));
    comments = null;
    form = null;
    const node = next?.kind === "node" ? model.nodes.get(next.id) : null;
    const link = next?.kind === "link" ? model.links.get(next.id) : null;
    if (node) {
      element.replaceChildren(el("div", { class: "stack", dataset: { nodeId: node.id } },
        el("div", { class: "mm-panel-head" }, el("h2", { class: "mm-panel-title" }, node.title), closeButton()),
        nodeActions(node), nodeForm(node), commentSection(node)));
    } else if (link) {
      element.replaceChildren(linkView(link));
      element.querySelector("h2")?.after(closeButton());
    } else {
      selection = null;
      element.replaceChildren(help());
    }
  }

  /** Follow a change of the model: the selected node's counts, fields (unless being edited), comments. */
  function changed(change) {
    if (!selection || !change || change.kind !== selection.kind || change.id !== selection.id) return;
    const node = model.nodes.get(selection.id);
    if (change.removed || (selection.kind === "node" && !node)) {
      show(null);
      return;
    }
    if (selection.kind !== "node") return;
    element.querySelector(".mm-panel-title").textContent = node.title;
    element.querySelector(".mm-node-actions")?.replaceWith(nodeActions(node));
    element.querySelector(".mm-comments-section h3").textContent = tn("mindmap.comments", node.comment_count);
    if (!dirty && form) {
      if (form.contains(document.activeElement)) {
        // Someone is about to type (a new idea's title has focus): keep the fields and their focus, take the
        // new version so the save is not refused as stale.
        baseVersion = node.version;
      } else {
        form.replaceWith(nodeForm(node));
      }
    }
    if (change.comments) loadComments(node);
  }

  show(null);
  return { element, show, changed };
}
