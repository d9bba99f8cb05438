/** /teams/:teamId/board/:postId: read a post — its sanitised body, attachments to download; edit, delete. */

import { api } from "../api.js";
import { el, pageTitle, toast } from "../dom.js";
import { formatDateTime, t } from "../i18n.js";
import { navigate } from "../router.js";
import {
  isTeamGone, loadTeam, teamError, teamFailure, teamHeader, teamIcon, teamLoading, watchTeam,
} from "../team-common.js";
import { formatSize } from "../format.js";
import { linkify } from "../markdown.js";
import { closeDialogs, confirmAction } from "../dialogs.js";

/**
 * The post's body as HTML. body_html is produced by the teams service from the Markdown source and passed
 * through its allow-list sanitiser (nh3: no scripts, no event attributes, no style beyond text-align, only
 * http/https/mailto links) before it is stored, so it is the one piece of server HTML the UI may insert;
 * everything else, the title and the author's name included, goes in as text. The CSP (script-src 'self')
 * is the second line of defence.
 */
function postBody(post) {
  const body = el("div", { class: "post-body" });
  body.innerHTML = post.body_html;  // server-sanitised HTML (see above) — the only innerHTML in the UI
  linkify(body);  // bare URLs become links, as the editor's hint promises
  for (const link of body.querySelectorAll("a[href]")) {
    if (new URL(link.href, location.href).origin !== location.origin) {
      link.target = "_blank";
      link.rel = "noopener noreferrer nofollow";
    }
  }
  return body;
}

const isImage = (file) => /^image\/(png|jpeg|gif|webp|avif)$/.test(file.content_type || "");

function attachments(post) {
  if (!post.files.length) return null;
  const images = post.files.filter(isImage);
  return el("section", { class: "post-attachments", "aria-labelledby": "post-files-title" },
    el("h2", { id: "post-files-title", class: "section-title" }, teamIcon("clip"), t("board.attachments")),
    images.length ? el("div", { class: "image-previews" }, images.map((file) => el("figure", { class: "image-preview" },
      el("a", { href: file.url, target: "_blank", rel: "noopener" },
        el("img", { src: file.url, alt: file.name, loading: "lazy" })),
      el("figcaption", { class: "muted" }, file.name)))) : null,
    el("ul", { class: "file-list" }, post.files.map((file) => el("li", { class: "file-item", dataset: { fileId: file.id } },
      el("span", { class: "file-name" }, file.name),
      el("span", { class: "muted file-size" }, formatSize(file.size)),
      el("a", { href: file.url, download: file.name, class: "btn btn-secondary btn-sm file-download",
                "aria-label": t("board.downloadNamed", { name: file.name }) },
        teamIcon("download"), t("board.download"))))));
}

export async function render(root, { teamId, postId }) {
  pageTitle(t("board.title"));
  root.append(teamLoading());
  let ctx;
  let post;
  try {
    [ctx, post] = await Promise.all([loadTeam(teamId),
                                     api.get(`teams/${encodeURIComponent(teamId)}/posts/${encodeURIComponent(postId)}/`)]);
  } catch (err) {
    teamFailure(root, err);
    return undefined;
  }
  const author = post.author_id === ctx.me?.id;
  let deleting = false;
  const boardPath = `/teams/${ctx.team.id}/board`;
  const edit = author ? el("a", { href: `${boardPath}/${post.id}/edit`, class: "btn btn-secondary btn-sm" }, t("board.edit"))
    : null;
  const remove = author || ctx.isHost ? el("button", { type: "button", class: "btn btn-danger btn-sm",
                                                       dataset: { action: "delete" } }, t("board.delete")) : null;
  if (remove) {
    remove.addEventListener("click", () => confirmAction({ describe: teamError,
      title: t("board.delete"),
      message: author ? t("board.deleteConfirm", { title: post.title }) : t("board.moderateConfirm", { title: post.title }),
      confirmLabel: t("board.delete"), busyLabel: t("common.working"), danger: true,
      action: async () => {
        deleting = true;
        await api.delete(`teams/${ctx.team.id}/posts/${post.id}/`).catch((err) => { deleting = false; throw err; });
        toast(t("board.deleted"), "success");
        navigate(boardPath);
      },
    }));
  }
  const edited = post.updated_at && post.updated_at !== post.created_at;

  /** Live updates (realtime.js): leave when this post is deleted or the team disbanded. */
  function onTeamEvent(event) {
    if (isTeamGone(event, ctx.me?.id)) {
      toast(t("teams.gone"), "warning");
      navigate("/teams");
    } else if (event.type === "post.deleted" && event.data.id === post.id && !deleting) {
      toast(t("board.gone"), "warning");
      navigate(boardPath);
    }
  }

  pageTitle(`${post.title} · ${ctx.team.name}`);
  root.replaceChildren(el("div", { class: "container team-page", dataset: { page: "post" } },
    teamHeader(ctx.team, "board"),
    el("p", { class: "breadcrumb" }, el("a", { href: boardPath }, t("board.back"))),
    el("article", { class: "card post" },
      el("header", { class: "post-header" },
        el("h2", { class: "post-title" }, post.title),
        el("p", { class: "post-meta muted" },
          el("span", { class: "post-author" }, post.author_nickname || t("teams.formerMember")),
          el("span", {}, formatDateTime(post.created_at)),
          edited ? el("span", {}, t("board.edited", { when: formatDateTime(post.updated_at) })) : null),
        edit || remove ? el("div", { class: "row post-tools" }, edit, remove) : null),
      post.body_html ? postBody(post) : el("p", { class: "muted" }, t("board.noBody")),
      attachments(post))));
  const stop = watchTeam(teamId, onTeamEvent);
  return () => {
    stop();
    closeDialogs();
  };
}
