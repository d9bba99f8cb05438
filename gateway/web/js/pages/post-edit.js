/**
 * /teams/:teamId/board/new and /teams/:teamId/board/:postId/edit: write or edit a post (title, Markdown
 * body) and its attachments (up to 5 files of at most 20 MB, checked here before anything is sent; each
 * goes up in its own multipart request, field `file`, with its progress shown).
 */

import { api } from "../api.js";
import { counter, el, field, onSubmit, pageTitle, setBusy, setNotice, spinner, toast } from "../dom.js";
import { t } from "../i18n.js";
import { navigate } from "../router.js";
import { attempt, loadTeam, teamError, teamFailure, teamHeader, teamIcon, teamLoading } from "../team-common.js";
import { formatSize } from "../format.js";
import { markdownToolbar, preview } from "../markdown.js";
import { TEAM_LIMITS } from "../team-rules.js";
import { closeDialogs } from "../dialogs.js";

/** A toolbar over the body and "Write" / "Preview" tabs: the preview shows the Markdown as it will read. */
function addWriteAndPreview(textarea) {
  const labels = Object.fromEntries(["toolbar", "bold", "italic", "heading", "list", "link", "code"]
    .map((name) => [name, t(`board.md.${name}`)]));
  const shown = el("div", { class: "md-preview", id: "post-body-preview", hidden: true, tabindex: "0",
                            "aria-label": t("board.md.preview") });
  const tab = (name, selected) => el("button", { type: "button", role: "tab", class: "md-tab", dataset: { tab: name },
                                                 "aria-selected": String(selected) }, t(`board.md.${name}`));
  const write = tab("write", true);
  const look = tab("preview", false);
  const toolbar = markdownToolbar(textarea, labels);
  const select = (previewing) => {
    write.setAttribute("aria-selected", String(!previewing));
    look.setAttribute("aria-selected", String(previewing));
    shown.hidden = !previewing;
    textarea.hidden = previewing;
    toolbar.hidden = previewing;
    if (previewing) {
      shown.replaceChildren(textarea.value.trim() ? preview(textarea.value)
        : el("p", { class: "muted" }, t("board.md.nothing")));
    } else {
      textarea.focus();
    }
  };
  write.addEventListener("click", () => select(false));
  look.addEventListener("click", () => select(true));
  textarea.before(el("div", { class: "md-bar" },
    el("div", { class: "md-tabs", role: "tablist", "aria-label": t("board.field.body") }, write, look), toolbar));
  textarea.after(shown);
}

export async function render(root, { teamId, postId }) {
  pageTitle(postId ? t("board.editTitle") : t("board.write"));
  root.append(teamLoading());
  let ctx;
  let post = null;
  try {
    [ctx, post] = await Promise.all([loadTeam(teamId),
      postId ? api.get(`teams/${encodeURIComponent(teamId)}/posts/${encodeURIComponent(postId)}/`) : null]);
  } catch (err) {
    teamFailure(root, err);
    return undefined;
  }
  const boardPath = `/teams/${ctx.team.id}/board`;
  let pending = [];  // File objects chosen, not yet uploaded

  // The native picker says "Choose Files" in the browser's language; ours is a label in the UI's language.
  const picker = el("input", { type: "file", name: "file", multiple: true, id: "post-files", class: "file-picker visually-hidden" });
  const chosen = el("ul", { class: "file-list" });
  const fileBox = el("div", { class: "field", dataset: { field: "file" } },
    el("span", { class: "field-label" }, teamIcon("clip"), t("board.attachments")),
    chosen,
    el("div", { class: "file-pick-row" }, picker,
      el("label", { for: "post-files", class: "btn btn-secondary btn-sm file-pick" }, teamIcon("plus"), t("board.chooseFiles"))),
    el("p", { class: "field-hint" }, t("board.filesHint", { count: TEAM_LIMITS.filesPerPost, size: "20 MB" })),
    el("p", { class: "field-message", "aria-live": "polite" }));

  const form = el("form", { class: "stack post-form", "aria-label": post ? t("board.editTitle") : t("board.write") },
    field({ name: "title", label: t("board.field.title"), value: post?.title || "", required: true,
            maxlength: TEAM_LIMITS.postTitleMax, autocomplete: "off" }),
    field({ name: "body", label: t("board.field.body"), type: "textarea", rows: 10, value: post?.body || "",
            hint: t("board.field.bodyHint") }),
    fileBox,
    el("div", { class: "form-notice" }),
    el("div", { class: "form-actions" },
      el("a", { href: post ? `${boardPath}/${post.id}` : boardPath, class: "btn btn-secondary" }, t("teams.cancel")),
      el("button", { type: "submit", class: "btn btn-primary" }, post ? t("common.save") : t("board.publish"))));
  counter(form, "body", TEAM_LIMITS.postBodyMax);
  addWriteAndPreview(form.querySelector("textarea[name=body]"));
  const fileMessage = fileBox.querySelector(".field-message");

  function fileProblem(message) {
    fileBox.classList.toggle("has-error", Boolean(message));
    fileMessage.textContent = message || "";
  }

  function drawFiles() {
    const existing = (post?.files || []).map((file) => {
      const remove = el("button", { type: "button", class: "btn btn-ghost btn-sm danger-text", dataset: { action: "remove-file" },
                                    "aria-label": t("board.removeNamed", { name: file.name }) }, t("board.remove"));
      remove.addEventListener("click", async () => {
        setBusy(remove, true, t("common.working"));
        try {
          post = await api.delete(`teams/${ctx.team.id}/posts/${post.id}/files/${file.id}/`);
          toast(t("board.fileRemoved", { name: file.name }), "success");
          drawFiles();
        } catch (err) {
          setBusy(remove, false);
          fileProblem(teamError(err));
        }
      });
      return el("li", { class: "file-item" }, el("span", { class: "file-name" }, file.name),
        el("span", { class: "muted file-size" }, formatSize(file.size)), remove);
    });
    const waiting = pending.map((file, index) => el("li", { class: "file-item pending" },
      el("span", { class: "file-name" }, file.name),
      el("span", { class: "muted file-size" }, formatSize(file.size)),
      el("button", { type: "button", class: "btn btn-ghost btn-sm", "aria-label": t("board.removeNamed", { name: file.name }),
                     onclick: () => { pending.splice(index, 1); fileProblem(null); drawFiles(); } }, t("board.remove"))));
    chosen.replaceChildren(...existing, ...waiting);
    picker.disabled = (post?.files.length || 0) + pending.length >= TEAM_LIMITS.filesPerPost;
  }

  picker.addEventListener("change", () => {
    const room = TEAM_LIMITS.filesPerPost - (post?.files.length || 0) - pending.length;
    const picked = [...picker.files];
    picker.value = "";
    const tooBig = picked.filter((file) => file.size > TEAM_LIMITS.fileBytes);
    const fitting = picked.filter((file) => file.size <= TEAM_LIMITS.fileBytes);
    const problems = tooBig.map((file) => t("board.tooBig", { name: file.name, size: "20 MB" }));
    if (fitting.length > room) problems.push(t("board.tooMany", { count: TEAM_LIMITS.filesPerPost }));
    pending = [...pending, ...fitting.slice(0, Math.max(0, room))];
    fileProblem(problems.join(" "));
    drawFiles();
  });

  /** Send the chosen files one by one; false (with the reason shown) when one is refused. */
  async function uploadAll(button, slot) {
    const total = pending.length;
    for (let i = 0; pending.length; i += 1) {
      const file = pending[0];
      const label = t("board.uploading", { index: i + 1, total, name: file.name });
      button.replaceChildren(spinner(label), label);
      setNotice(slot, "info", label);
      const data = new FormData();
      data.append("file", file, file.name);
      try {
        post = await api.upload(`teams/${ctx.team.id}/posts/${post.id}/files/`, data);
      } catch (err) {
        const reason = t("board.uploadFailed", { name: file.name, reason: teamError(err) });
        setNotice(slot, "error", reason);
        fileProblem(reason);
        drawFiles();
        return false;
      }
      pending.shift();
      drawFiles();
    }
    return true;
  }

  onSubmit(form, async (values, { slot }) => {
    const button = form.querySelector("[type=submit]");
    const body = { title: values.title.trim(), body: values.body };
    if (post) {
      post = await attempt(api.patch(`teams/${ctx.team.id}/posts/${post.id}/`, body));
    } else {
      post = await attempt(api.post(`teams/${ctx.team.id}/posts/`, body));
      history.replaceState(null, "", `${boardPath}/${post.id}/edit`);  // a retry now edits, never duplicates
      button.dataset.label = t("common.save");
    }
    if (!await uploadAll(button, slot)) return;
    toast(t("board.saved"), "success");
    navigate(`${boardPath}/${post.id}`);
  }, {
    busyLabel: t("common.saving"),
    validate: (v) => {
      const out = {};
      const title = v.title.trim();
      if (!title) out.title = t("rules.required");
      else if (title.length > TEAM_LIMITS.postTitleMax) out.title = t("teams.rules.tooLong", { max: TEAM_LIMITS.postTitleMax });
      if (v.body.length > TEAM_LIMITS.postBodyMax) out.body = t("teams.rules.tooLong", { max: TEAM_LIMITS.postBodyMax });
      return out;
    },
  });

  pageTitle(`${post ? t("board.editTitle") : t("board.write")} · ${ctx.team.name}`);
  drawFiles();
  root.replaceChildren(el("div", { class: "container team-page", dataset: { page: "post-edit" } },
    teamHeader(ctx.team, "board"),
    el("p", { class: "breadcrumb" }, el("a", { href: boardPath }, t("board.back"))),
    el("section", { class: "card medium-card" },
      el("h2", {}, post ? t("board.editTitle") : t("board.write")),
      form)));
  return () => closeDialogs();
}
