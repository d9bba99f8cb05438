/**
 * The sections of the team dashboard (pages/team.js): milestone and todo summary, members (with the host's
 * per-member tools), invite code with copy buttons, and the team's facts with host tools or "leave".
 * `actions` holds the page's handlers: transfer(member), remove(member), rotate(codeEl, statusEl), edit,
 * password, disband, leave.
 */

import { el } from "../../dom.js";
import { formatDateTime, language, t } from "../../i18n.js";
import { teamIcon } from "../../team-common.js";
import { formatDay } from "../../format.js";

const STATUSES = ["not_started", "in_progress", "overdue", "completed"];

export function summary(stats, teamId) {
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

export function membersCard(ctx, actions) {
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

export function inviteCard(ctx, actions) {
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

export function aboutCard(ctx, actions) {
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

/** The next meetings of the team and who is coming (the schedule page books and answers them). */
export function meetingsCard(teamId, meetings, timeZone) {
  const locale = language() === "ko" ? "ko-KR" : "en";
  const format = new Intl.DateTimeFormat(locale, { timeZone, weekday: "short", month: "short", day: "numeric",
                                                  hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const items = meetings.slice(0, 3).map((meeting) => {
    const coming = meeting.answers.filter((a) => a.answer === "going").map((a) => a.nickname || "?");
    return el("li", { class: "dash-meeting", dataset: { meetingId: meeting.id, going: meeting.counts.going } },
      el("strong", {}, meeting.title), " ", el("span", { class: "muted" }, format.format(new Date(meeting.start))),
      el("p", { class: "muted small" }, coming.length ? t("schedule.meetings.comingList", { names: coming.join(", ") })
        : t("teams.dashboard.meetingsNoneComing")));
  });
  return el("section", { class: "card dash-meetings", "aria-labelledby": "dash-meetings-title" },
    el("h2", { id: "dash-meetings-title" }, t("teams.dashboard.meetings")),
    items.length ? el("ul", { class: "plain-list" }, items) : el("p", { class: "muted" }, t("teams.dashboard.meetingsNone")),
    el("a", { href: `/teams/${encodeURIComponent(teamId)}/schedule?view=team` }, t("teams.dashboard.meetingsPlan")));
}
