/**
 * /teams/:teamId/mindmaps: the team's mind maps — create one (any member), open one, delete one (the host or
 * its creator). The list follows other members' creations and deletions live.
 */

import { api } from "../api.js";
import { el, field, notice, onSubmit, pageTitle, toast } from "../dom.js";
import { formatDateTime, t, tn } from "../i18n.js";
import { navigate } from "../router.js";
import {
  attempt, loadTeam, teamError, teamFailure, teamHeader, teamIcon, teamLoading, watchTeam,
} from "../team-common.js";
import { closeDialogs, confirmAction } from "../dialogs.js";
import { coalesce } from "../timing.js";

const TITLE_MAX = 64;

async function fetchMaps(teamId) {
  const items = [];
  for (let page = 1; ; page += 1) {
    const data = await api.get(`teams/${encodeURIComponent(teamId)}/mindmaps/`, { query: { page, page_size: 100 } });
    items.push(...data.items);
    if (items.length >= data.total || !data.items.length) return items;
  }
}

export async function render(root, { teamId }) {
  pageTitle(t("mindmap.listTitle"));
  root.append(teamLoading());
  let ctx;
  let maps;
  try {
    [ctx, maps] = await Promise.all([loadTeam(teamId), fetchMaps(teamId)]);
  } catch (err) {
    teamFailure(root, err);
    return undefined;
  }
  const list = el("div", { class: "mindmap-list", "aria-live": "polite" });

  function item(map) {
    const remove = map.can_delete
      ? el("button", { type: "button", class: "btn btn-ghost btn-sm danger-link", dataset: { action: "delete" },
                       onclick: () => askDelete(map) }, t("mindmap.delete"))
      : null;
    return el("li", { class: "mindmap-item card", dataset: { mapId: map.id } },
      el("a", { href: `/teams/${ctx.team.id}/mindmaps/${map.id}`, class: "mindmap-link" },
        teamIcon("mindmap"),
        el("span", { class: "mindmap-item-title" }, map.title)),
      el("span", { class: "muted mindmap-item-meta" },
        t("mindmap.createdBy", { name: ctx.nameOf(map.created_by), when: formatDateTime(map.created_at) })),
      remove);
  }

  function draw() {
    list.replaceChildren(
      el("p", { class: "muted" }, tn("mindmap.count", maps.length)),
      maps.length ? el("ul", { class: "mindmap-items" }, maps.map(item))
        : el("div", { class: "card empty" }, el("p", {}, t("mindmap.empty"))));
  }

  async function reload() {
    try {
      maps = await fetchMaps(teamId);
      draw();
    } catch (err) {
      list.replaceChildren(notice("error", teamError(err)));
    }
  }

  function askDelete(map) {
    confirmAction({ describe: teamError,
      title: t("mindmap.deleteTitle"), message: t("mindmap.deleteText", { title: map.title }),
      confirmLabel: t("mindmap.delete"), busyLabel: t("mindmap.deleting"), danger: true,
      action: async () => {
        await attempt(api.delete(`teams/${ctx.team.id}/mindmaps/${map.id}/`));
        maps = maps.filter((m) => m.id !== map.id);
        draw();
        toast(t("mindmap.deleted"), "success");
      },
    });
  }

  const form = el("form", { class: "mindmap-create" },
    field({ name: "title", label: t("mindmap.newTitle"), required: true, maxlength: TITLE_MAX, autocomplete: "off" }),
    el("div", { class: "form-notice" }),
    el("button", { type: "submit", class: "btn btn-primary" }, teamIcon("plus"), t("mindmap.create")));
  onSubmit(form, async ({ title }) => {
    const created = await attempt(api.post(`teams/${ctx.team.id}/mindmaps/`, { title: title.trim() }));
    toast(t("mindmap.created"), "success");
    navigate(`/teams/${ctx.team.id}/mindmaps/${created.id}`);
  }, {
    busyLabel: t("mindmap.creating"),
    validate: ({ title }) => {
      const trimmed = (title || "").trim();
      if (!trimmed) return { title: t("mindmap.titleRequired") };
      if (trimmed.length > TITLE_MAX) return { title: t("mindmap.titleTooLong", { max: TITLE_MAX }) };
      return null;
    },
  });

  const reloadSoon = coalesce(reload, 300);
  const stop = watchTeam(teamId, (event) => {
    if (event.type === "team.disbanded") navigate("/teams");
    else if (event.type.startsWith("mindmap") || event.type.startsWith("member.")) reloadSoon();
  });

  pageTitle(`${t("mindmap.listTitle")} · ${ctx.team.name}`);
  root.replaceChildren(el("div", { class: "container team-page", dataset: { page: "mindmaps" } },
    teamHeader(ctx.team, "mindmaps"),
    el("div", { class: "mindmap-toolbar" },
      el("div", {}, el("h2", {}, t("mindmap.listTitle")), el("p", { class: "muted" }, t("mindmap.listLead")))),
    form, list));
  draw();
  return () => {
    stop();
    reloadSoon.cancel();
    closeDialogs();
  };
}
