/**
 * /teams/:teamId: the team dashboard — milestone and todo summary, members with roles, the invite code
 * with a copy button; host tools (edit, rotate code, join password, transfer host, remove, disband) and
 * leaving for members.
 */

import { api } from "../api.js";
import { counter, el, field, onSubmit, pageTitle, setNotice, toast } from "../dom.js";
import { t } from "../i18n.js";
import { navigate } from "../router.js";
import { aboutCard, inviteCard, meetingsCard, membersCard, summary } from "./team/cards.js";
import {
  attempt, isTeamGone, loadTeam, teamError, teamFailure, teamHeader, teamLoading, watchTeam,
} from "../team-common.js";
import { TEAM_LIMITS, joinPasswordProblem, teamProblems, timeZoneField } from "../team-rules.js";
import { closeDialogs, confirmAction, modal } from "../dialogs.js";
import { coalesce } from "../timing.js";

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
  let leaving = false;
  let meetings = [];
  const meetingsPath = `teams/${encodeURIComponent(teamId)}/schedules/meetings/`;
  const loadMeetings = async () => {  // the schedule service being down leaves the card empty, not the page
    meetings = await api.get(meetingsPath).then((data) => data.items, () => []);
  };
  await loadMeetings();

  async function refresh() {
    try {
      [ctx, stats] = await Promise.all([loadTeam(teamId), api.get(`teams/${encodeURIComponent(teamId)}/statistics/`),
        loadMeetings()]);
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
    rotate: (code, line) => confirmAction({ describe: teamError,
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
    transfer: (member) => confirmAction({ describe: teamError,
      title: t("teams.host.makeHost"), message: t("teams.host.transferConfirm", { name: member.nickname }),
      confirmLabel: t("teams.host.transferSubmit"), busyLabel: t("common.working"),
      action: async () => {
        await api.put(`teams/${ctx.team.id}/host/`, { user_id: member.user_id });
        toast(t("teams.host.transferred", { name: member.nickname }), "success");
        await refresh();
      },
    }),
    remove: (member) => confirmAction({ describe: teamError,
      title: t("teams.host.remove"), message: t("teams.host.removeConfirm", { name: member.nickname }),
      confirmLabel: t("teams.host.remove"), busyLabel: t("common.working"), danger: true,
      action: async () => {
        await api.delete(`teams/${ctx.team.id}/members/${member.user_id}/`);
        toast(t("teams.host.removed", { name: member.nickname }), "success");
        await refresh();
      },
    }),
    disband: () => confirmAction({ describe: teamError,
      title: t("teams.host.disband"),
      message: [t("teams.host.disbandWarning"), t("teams.host.disbandType")],
      confirmLabel: t("teams.host.disbandSubmit"), busyLabel: t("teams.host.disbanding"), danger: true,
      typed: ctx.team.name,
      action: async () => {
        leaving = true;
        await api.delete(`teams/${ctx.team.id}/`).catch((err) => { leaving = false; throw err; });
        toast(t("teams.host.disbanded", { name: ctx.team.name }), "success");
        navigate("/teams");
      },
    }),
    leave: () => confirmAction({ describe: teamError,
      title: t("teams.leave.title"), message: t("teams.leave.confirm", { name: ctx.team.name }),
      confirmLabel: t("teams.leave.button"), busyLabel: t("common.working"), danger: true,
      action: async () => {
        leaving = true;
        await api.delete(`teams/${ctx.team.id}/members/${ctx.me.id}/`).catch((err) => { leaving = false; throw err; });
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
        el("div", { class: "dash-col" }, meetingsCard(ctx.team.id, meetings, ctx.team.time_zone), inviteCard(ctx, actions),
          aboutCard(ctx, actions)))));
  }

  /** Live updates (realtime.js): refresh on member, todo and milestone events; leave when the team goes. */
  function onTeamEvent(event) {
    if (isTeamGone(event, ctx.me?.id)) {
      if (leaving) return;  // my own disband or leave: its action reports and navigates
      toast(t("teams.gone"), "warning");
      navigate("/teams");
    } else if (event.type === "resync" || /^(member|todo|milestone|team|meeting)\./.test(event.type)) {
      refreshSoon();
    }
  }

  draw();
  const stop = watchTeam(teamId, onTeamEvent);
  return () => {
    stop();
    refreshSoon.cancel();
    closeDialogs();
  };
}
