/** /teams/:teamId/board: the share board — posts newest first, search (title, body, author), paging. */

import { api } from "../api.js";
import { el, fill, notice, pageTitle, toast } from "../dom.js";
import { formatDateTime, t, tn } from "../i18n.js";
import { navigate } from "../router.js";
import { formatSize } from "../format.js";
import {
  isTeamGone, loadTeam, teamError, teamFailure, teamHeader, teamIcon, teamLoading, watchTeam,
} from "../team-common.js";
import { closeDialogs } from "../dialogs.js";
import { coalesce } from "../timing.js";

const PAGE_SIZE = 10;
const EXCERPT_CHARS = 160;

/** The start of a post's text: the words of its (server-sanitised) HTML, parsed inertly, never inserted. */
function excerpt(post) {
  const text = new DOMParser().parseFromString(post.body_html || "", "text/html").body.textContent || "";
  const plain = text.replace(/\s+/g, " ").trim();
  return plain.length > EXCERPT_CHARS ? `${plain.slice(0, EXCERPT_CHARS)}…` : plain;
}

function postItem(teamId, post) {
  return el("li", { class: "post-item", dataset: { postId: post.id } },
    el("a", { href: `/teams/${teamId}/board/${post.id}`, class: "post-link" },
      el("h3", { class: "post-item-title" }, post.title),
      excerpt(post) ? el("p", { class: "post-excerpt muted" }, excerpt(post)) : null,
      el("p", { class: "post-meta" },
        el("span", { class: "post-author" }, post.author_nickname || t("teams.formerMember")),
        el("span", {}, formatDateTime(post.created_at)),
        post.files.length ? el("span", { class: "post-files-count" }, teamIcon("clip"), tn("board.fileCount", post.files.length))
          : null)));
}

export async function render(root, { teamId, query }) {
  pageTitle(t("board.title"));
  root.append(teamLoading());
  let ctx;
  try {
    ctx = await loadTeam(teamId);
  } catch (err) {
    teamFailure(root, err);
    return undefined;
  }
  let q = query.get("q") || "";
  let pageNumber = Math.max(1, Number(query.get("page")) || 1);
  const results = el("div", { class: "post-results", "aria-live": "polite" });
  const search = el("input", { type: "search", name: "q", value: q, maxlength: 100, autocomplete: "off",
                               placeholder: t("board.searchPlaceholder"), "aria-label": t("board.search") });
  const searchForm = el("form", { class: "board-search", role: "search" }, teamIcon("search"), search,
    el("button", { type: "submit", class: "btn btn-secondary btn-sm" }, t("board.search")));
  let requestNo = 0;

  function remember() {
    const params = new URLSearchParams();
    if (q) params.set("q", q);
    if (pageNumber > 1) params.set("page", String(pageNumber));
    const suffix = params.toString() ? `?${params}` : "";
    history.replaceState(null, "", `/teams/${ctx.team.id}/board${suffix}`);
  }

  function pager(data) {
    const pages = Math.max(1, Math.ceil(data.total / data.page_size));
    if (pages <= 1) return null;
    const go = (n) => { pageNumber = n; load(); };
    return el("nav", { class: "pager", "aria-label": t("board.pages") },
      el("button", { type: "button", class: "btn btn-secondary btn-sm", disabled: pageNumber <= 1,
                     onclick: () => go(pageNumber - 1) }, t("board.previous")),
      el("span", { class: "pager-status" }, t("board.pageOf", { page: pageNumber, pages })),
      el("button", { type: "button", class: "btn btn-secondary btn-sm", disabled: pageNumber >= pages,
                     onclick: () => go(pageNumber + 1) }, t("board.next")));
  }

  async function load() {
    const mine = ++requestNo;
    remember();
    results.setAttribute("aria-busy", "true");
    results.classList.add("is-loading");
    try {
      const data = await api.get(`teams/${ctx.team.id}/posts/`, { query: { q, page: pageNumber, page_size: PAGE_SIZE } });
      if (mine !== requestNo) return;
      if (!data.items.length && pageNumber > 1 && data.total) {
        pageNumber = Math.ceil(data.total / PAGE_SIZE);
        load();
        return;
      }
      fill(results,
        el("p", { class: "muted result-count" }, q ? tn("board.found", data.total, { q }) : tn("board.total", data.total)),
        data.storage ? el("p", { class: "muted storage-use", dataset: { used: data.storage.used_bytes, quota: data.storage.quota_bytes } },
          t("board.storage", { used: formatSize(data.storage.used_bytes), quota: formatSize(data.storage.quota_bytes) })) : null,
        data.items.length
          ? el("ul", { class: "post-list" }, data.items.map((post) => postItem(ctx.team.id, post)))
          : el("div", { class: "card empty" }, el("p", {}, q ? t("board.noMatch") : t("board.empty"))),
        pager(data));
    } catch (err) {
      if (mine !== requestNo) return;
      results.replaceChildren(notice("error", teamError(err)),
        el("button", { type: "button", class: "btn btn-secondary", onclick: load }, t("common.retry")));
    } finally {
      if (mine === requestNo) {
        results.removeAttribute("aria-busy");
        results.classList.remove("is-loading");
      }
    }
  }

  const searchSoon = coalesce(() => {
    if (search.value.trim() === q) return;
    q = search.value.trim();
    pageNumber = 1;
    load();
  }, 400);
  search.addEventListener("input", searchSoon);
  searchForm.addEventListener("submit", (event) => {
    event.preventDefault();
    searchSoon.cancel();
    q = search.value.trim();
    pageNumber = 1;
    load();
  });

  /** Live updates (realtime.js): new, edited or deleted posts refresh the list. */
  const reloadSoon = coalesce(load, 500);
  function onTeamEvent(event) {
    if (isTeamGone(event, ctx.me?.id)) {
      toast(t("teams.gone"), "warning");
      navigate("/teams");
    } else if (event.type === "resync" || event.type.startsWith("post.")) {
      reloadSoon();
    }
  }

  pageTitle(`${t("board.title")} · ${ctx.team.name}`);
  root.replaceChildren(el("div", { class: "container team-page", dataset: { page: "board" } },
    teamHeader(ctx.team, "board"),
    el("div", { class: "board-toolbar" },
      el("div", {}, el("h2", { class: "board-title" }, t("board.title")),
        el("p", { class: "muted board-lead" }, t("board.lead"))),
      el("a", { href: `/teams/${ctx.team.id}/board/new`, class: "btn btn-primary btn-sm" }, teamIcon("plus"), t("board.write"))),
    searchForm, results));
  await load();
  const stop = watchTeam(teamId, onTeamEvent);
  return () => {
    stop();
    searchSoon.cancel();
    reloadSoon.cancel();
    closeDialogs();
  };
}
