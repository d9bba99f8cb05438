/**
 * /teams/:teamId: the team dashboard — milestone and todo summary, members with roles, the invite code
 * with a copy button; host tools (edit, rotate code, join password, transfer host, remove, disband) and
 * leaving for members.
 */

import { api } from "../api.js";
import { counter, el, field, onSubmit, pageTitle, setNotice, toast } from "../dom.js";
import { formatDateTime, t } from "../i18n.js";
import { navigate } from "../app.js";
import {
  attempt, closeDialogs, coalesce, confirmAction, formatDay, loadTeam, modal, teamError, teamFailure, teamHeader,
  teamIcon, teamLoading, watchTeam,
} from "../team-common.js";
import { TEAM_LIMITS, joinPasswordProblem, teamProblems, timeZoneField } from "../team-rules.js";

const STATUSES = ["not_started", "in_progress", "overdue", "completed"];

function summary(stats, teamId) {
  const today = stats.today_milestone;
  const todos = stats.todos;
  return el("section", { class: "card dash-summary", "aria-labelledby": "dash-summary-title" },
    el("h2", { id: "dash-summary-title" }, t("teams.dashboard.milestones")),
    el("ul", { class: "stat-tiles" }, STATUSES.map((status) => el("li", { class: `stat-tile status-${status}` },
      el("span", { class: "stat-value", dataset: { status } }, String(stats.milestones.by_status[status] ?? 0)),
      el("span", { class: "stat-label" }, t(`milestones.status.${status}`))))),
    today
      ? el("div", { class: "today-milestone" },
        el("p", { class: "muted today-label" }, t("teams.dashboard.current")),
        el("p", { class: "today-title" }, el("a", { href: `/teams/${teamId}/milestones` }, today.title)),
        el("div", { class: "progress", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100",
                    "aria-valuenow": String(today.progress), "aria-label": t("milestones.progress") },
          el("span", { class: "progress-fill", style: `width: ${today.progress}%` })),
        el("p", { class: "muted" }, t("teams.dashboard.progressDays", {
          progress: today.progress,
          days: today.days_left === 0 ? t("teams.dashboard.dueToday") : t("teams.dashboard.daysLeft", { n: today.days_left }),
        })))
      : el("p", { class: "muted" }, stats.milestones.total ? t("teams.dashboard.noCurrent") : t("teams.dashboard.noMilestones")),
    el("h2", { class: "section-title" }, t("teams.dashboard.todos")),
    el("ul", { class: "stat-tiles stat-tiles-3" },
      ["backlog", "assigned", "done"].map((name) => el("li", { class: `stat-tile todo-${name}` },
        el("span", { class: "stat-value", dataset: { todos: name } }, String(todos[name] ?? 0)),
        el("span", { class: "stat-label" }, t(`teams.dashboard.todo.${name}`))))),
    el("p", { class: "dash-links" },
      el("a", { href: `/teams/${teamId}/todos` }, t("teams.dashboard.openBoard")),
      el("a", { href: `/teams/${teamId}/milestones` }, t("teams.dashboard.openTimeline"))));
}

function initial(name) {
  return Array.from((name || "?").trim() || "?")[0].toUpperCase();
}

function membersCard(ctx, actions) {
  const { team, members, me, isHost } = ctx;
  return el("section", { class: "card dash-members", "aria-labelledby": "dash-members-title" },
    el("div", { class: "card-title-row" },
      el("h2", { id: "dash-members-title" }, t("teams.dashboard.members")),
      el("span", { class: "muted" }, t("teams.memberCount", { count: team.member_count, capacity: team.capacity }))),
    el("ul", { class: "member-list" }, members.map((member) => {
      const self = member.user_id === me?.id;
      const role = member.role === "host" ? "host" : "member";
      const tools = isHost && !self ? el("div", { class: "member-tools" },
        el("button", { type: "button", class: "btn btn-ghost btn-sm", dataset: { action: "transfer" },
                       onclick: () => actions.transfer(member) }, t("teams.host.makeHost")),
        el("button", { type: "button", class: "btn btn-ghost btn-sm danger-text", dataset: { action: "remove" },
                       onclick: () => actions.remove(member) }, t("teams.host.remove"))) : null;
      return el("li", { class: "member", dataset: { userId: member.user_id } },
        el("span", { class: "avatar avatar-sm", "aria-hidden": "true" }, initial(member.nickname)),
        el("div", { class: "member-main" },
          el("p", { class: "member-name" }, member.nickname || t("teams.formerMember"),
            self ? el("span", { class: "muted" }, ` ${t("teams.you")}`) : null),
          el("p", { class: "muted member-joined" }, t("teams.dashboard.joined", { date: formatDateTime(member.joined_at) }))),
        el("span", { class: `badge role-${role}` }, t(`teams.role.${role}`)),
        tools);
    })));
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = el("textarea", { class: "visually-hidden", readonly: true }, text);
    document.body.append(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch {
      ok = false;
    }
    area.remove();
    return ok;
  }
}

function copyButton(label, textOf, status) {
  const button = el("button", { type: "button", class: "btn btn-secondary btn-sm" }, teamIcon("copy"), label);
  button.addEventListener("click", async () => {
    const ok = await copyText(textOf());
    status.textContent = ok ? t("teams.invite.copied") : t("teams.invite.copyFailed");
    status.className = ok ? "copy-status ok" : "copy-status error";
  });
  return button;
}

function inviteCard(ctx, actions) {
  const { team, isHost } = ctx;
  const code = el("code", { class: "invite-code", dataset: { code: team.invite_code } }, team.invite_code);
  const status = el("p", { class: "copy-status", "aria-live": "polite" });
  const link = () => `${location.origin}/teams/join?code=${encodeURIComponent(code.dataset.code)}`;
  const rotate = isHost ? el("button", { type: "button", class: "btn btn-ghost btn-sm", dataset: { action: "rotate" } },
    t("teams.invite.rotate")) : null;
  if (rotate) {
    rotate.addEventListener("click", () => actions.rotate(code, status));
  }
  return el("section", { class: "card dash-invite", "aria-labelledby": "dash-invite-title" },
    el("h2", { id: "dash-invite-title" }, t("teams.invite.title")),
    el("p", { class: "muted" }, t("teams.invite.lead")),
    el("div", { class: "invite-row" }, code),
    el("div", { class: "row invite-actions" },
      copyButton(t("teams.invite.copyCode"), () => code.dataset.code, status),
      copyButton(t("teams.invite.copyLink"), link, status),
      rotate),
    status);
}

function aboutCard(ctx, actions) {
  const { team, isHost } = ctx;
  const tools = isHost
    ? el("div", { class: "stack host-tools" },
      el("h2", { class: "section-title" }, t("teams.host.title")),
      el("div", { class: "row" },
        el("button", { type: "button", class: "btn btn-secondary btn-sm", dataset: { action: "edit" },
                       onclick: actions.edit }, t("teams.host.edit")),
        el("button", { type: "button", class: "btn btn-secondary btn-sm", dataset: { action: "password" },
                       onclick: actions.password }, t("teams.host.password"))),
      el("p", { class: "muted small" }, t("teams.host.leaveHint")),
      el("div", {}, el("button", { type: "button", class: "btn btn-danger btn-sm", dataset: { action: "disband" },
                                   onclick: actions.disband }, t("teams.host.disband"))))
    : el("div", { class: "stack" },
      el("h2", { class: "section-title" }, t("teams.leave.title")),
      el("div", {}, el("button", { type: "button", class: "btn btn-secondary btn-sm danger-text",
                                   dataset: { action: "leave" }, onclick: actions.leave }, t("teams.leave.button"))));
  return el("section", { class: "card dash-about", "aria-labelledby": "dash-about-title" },
    el("h2", { id: "dash-about-title" }, t("teams.dashboard.about")),
    el("p", { class: "team-description" }, team.description || t("teams.noDescription")),
    el("dl", { class: "facts" },
      el("dt", {}, t("teams.field.timeZone")), el("dd", {}, team.time_zone),
      el("dt", {}, t("teams.field.capacity")), el("dd", {}, String(team.capacity)),
      el("dt", {}, t("teams.dashboard.created")), el("dd", {}, formatDay(team.created_at.slice(0, 10)))),
    tools);
}

function editTeamDialog(team, onSaved) {
  const form = el("form", { class: "stack" },
    field({ name: "name", label: t("teams.field.name"), value: team.name, required: true, maxlength: TEAM_LIMITS.nameMax }),
    field({ name: "description", label: t("teams.field.description"), type: "textarea", rows: 3,
            value: team.description || "" }),
    field({ name: "capacity", label: t("teams.field.capacity"), type: "number", required: true,
            value: String(team.capacity), min: Math.max(TEAM_LIMITS.capacityMin, team.member_count),
            max: TEAM_LIMITS.capacityMax, hint: t("teams.host.capacityHint", { count: team.member_count }) }),
    timeZoneField(team.time_zone),
    el("div", { class: "form-notice" }),
    el("div", { class: "form-actions" }, el("button", { type: "submit", class: "btn btn-primary" }, t("common.save"))));
  counter(form, "description", TEAM_LIMITS.descriptionMax);
  const box = modal({ title: t("teams.host.edit"), body: form });
  onSubmit(form, async (values) => {
    const saved = await attempt(api.patch(`teams/${team.id}/`, {
      name: values.name.trim(), description: values.description.trim(), capacity: Number(values.capacity),
      time_zone: values.time_zone.trim(),
    }));
    box.close();
    toast(t("teams.host.saved"), "success");
    onSaved(saved);
  }, { busyLabel: t("common.saving"), validate: (v) => {
    const out = teamProblems(v);
    if (!out.capacity && Number(v.capacity) < team.member_count) {
      out.capacity = t("teams.host.capacityHint", { count: team.member_count });
    }
    return out;
  } });
}

function passwordDialog(team) {
  const form = el("form", { class: "stack" },
    el("p", { class: "muted" }, t("teams.host.passwordLead")),
    field({ name: "password", label: t("teams.host.newPassword"), type: "password", required: true,
            autocomplete: "new-password", hint: t("teams.field.joinPasswordHint", { min: TEAM_LIMITS.passwordMin }) }),
    el("div", { class: "form-notice" }),
    el("div", { class: "form-actions" }, el("button", { type: "submit", class: "btn btn-primary" }, t("teams.host.passwordSubmit"))));
  const box = modal({ title: t("teams.host.password"), body: form });
  onSubmit(form, async (values) => {
    await attempt(api.put(`teams/${team.id}/password/`, { password: values.password }));
    box.close();
    toast(t("teams.host.passwordDone"), "success");
  }, { busyLabel: t("common.saving"), validate: (v) => {
    const problem = joinPasswordProblem(v.password);
    return problem ? { password: problem } : {};
  } });
}

export async function render(root, { teamId }) {
  pageTitle(t("teams.dashboard.title"));
  root.append(teamLoading());
  let ctx;
  let stats;
  try {
    [ctx, stats] = await Promise.all([loadTeam(teamId), api.get(`teams/${encodeURIComponent(teamId)}/statistics/`)]);
  } catch (err) {
    teamFailure(root, err);
    return undefined;
  }
  const status = el("div", { class: "page-status", "aria-live": "polite" });

  async function refresh() {
    try {
      [ctx, stats] = await Promise.all([loadTeam(teamId), api.get(`teams/${encodeURIComponent(teamId)}/statistics/`)]);
      draw();
    } catch (err) {
      setNotice(status, "error", teamError(err));
    }
  }
  const refreshSoon = coalesce(refresh);

  const actions = {
    edit: () => editTeamDialog(ctx.team, (saved) => {
      ctx.team = { ...ctx.team, ...saved };
      draw();
    }),
    password: () => passwordDialog(ctx.team),
    rotate: (code, line) => confirmAction({
      title: t("teams.invite.rotate"), message: t("teams.invite.rotateConfirm"), confirmLabel: t("teams.invite.rotate"),
      busyLabel: t("common.working"),
      action: async () => {
        const data = await api.post(`teams/${ctx.team.id}/invite-code/`);
        ctx.team.invite_code = data.invite_code;
        code.dataset.code = data.invite_code;
        code.textContent = data.invite_code;
        line.textContent = t("teams.invite.rotated");
        line.className = "copy-status ok";
      },
    }),
    transfer: (member) => confirmAction({
      title: t("teams.host.makeHost"), message: t("teams.host.transferConfirm", { name: member.nickname }),
      confirmLabel: t("teams.host.transferSubmit"), busyLabel: t("common.working"),
      action: async () => {
        await api.put(`teams/${ctx.team.id}/host/`, { user_id: member.user_id });
        toast(t("teams.host.transferred", { name: member.nickname }), "success");
        await refresh();
      },
    }),
    remove: (member) => confirmAction({
      title: t("teams.host.remove"), message: t("teams.host.removeConfirm", { name: member.nickname }),
      confirmLabel: t("teams.host.remove"), busyLabel: t("common.working"), danger: true,
      action: async () => {
        await api.delete(`teams/${ctx.team.id}/members/${member.user_id}/`);
        toast(t("teams.host.removed", { name: member.nickname }), "success");
        await refresh();
      },
    }),
    disband: () => confirmAction({
      title: t("teams.host.disband"),
      message: [t("teams.host.disbandWarning"), t("teams.host.disbandType")],
      confirmLabel: t("teams.host.disbandSubmit"), busyLabel: t("teams.host.disbanding"), danger: true,
      typed: ctx.team.name,
      action: async () => {
        await api.delete(`teams/${ctx.team.id}/`);
        toast(t("teams.host.disbanded", { name: ctx.team.name }), "success");
        navigate("/teams");
      },
    }),
    leave: () => confirmAction({
      title: t("teams.leave.title"), message: t("teams.leave.confirm", { name: ctx.team.name }),
      confirmLabel: t("teams.leave.button"), busyLabel: t("common.working"), danger: true,
      action: async () => {
        await api.delete(`teams/${ctx.team.id}/members/${ctx.me.id}/`);
        toast(t("teams.leave.done", { name: ctx.team.name }), "success");
        navigate("/teams");
      },
    }),
  };

  function draw() {
    pageTitle(ctx.team.name);
    root.replaceChildren(el("div", { class: "container team-page", dataset: { page: "team-dashboard" } },
      teamHeader(ctx.team, "dashboard"),
      status,
      el("div", { class: "dash-grid" },
        el("div", { class: "dash-col" }, summary(stats, ctx.team.id), membersCard(ctx, actions)),
        el("div", { class: "dash-col" }, inviteCard(ctx, actions), aboutCard(ctx, actions)))));
  }

  /** Live updates (realtime.js): refresh on member, todo and milestone events; leave when the team goes. */
  function onTeamEvent(event) {
    if (event.type === "team.disbanded"
        || ((event.type === "member.removed" || event.type === "member.left") && event.data.user_id === ctx.me?.id)) {
      toast(t("teams.gone"), "warning");
      navigate("/teams");
      return;
    }
    if (/^(member|todo|milestone|team)\./.test(event.type)) refreshSoon();
  }

  draw();
  const stop = watchTeam(teamId, onTeamEvent);
  return () => {
    stop();
    refreshSoon.cancel();
    closeDialogs();
  };
}
