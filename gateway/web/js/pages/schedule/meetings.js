/**
 * The team's upcoming meetings beside the heat-map: book one from a suggestion (the host books, a member
 * proposes), answer going / maybe / not going, cancel; answers and bookings of others arrive live on the
 * team's realtime channel (meeting.* events), which simply reloads the list.
 *
 *   meetingsPanel({teamId, timeZone, team, me}) → {node, book(window), destroy()}
 *   book({start, end}): open the booking form for a suggested window
 */

import { api, describeError } from "../../api.js";
import { el, notice, setBusy } from "../../dom.js";
import { language, t } from "../../i18n.js";
import { subscribe } from "../../realtime.js";

const ANSWERS = ["going", "maybe", "not_going"];

function when(meeting, timeZone) {
  const locale = language() === "ko" ? "ko-KR" : "en";
  const day = new Intl.DateTimeFormat(locale, { timeZone, weekday: "short", month: "short", day: "numeric" });
  const time = new Intl.DateTimeFormat(locale, { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  return `${day.format(new Date(meeting.start))} ${time.format(new Date(meeting.start))}–${time.format(new Date(meeting.end))}`;
}

export function meetingsPanel({ teamId, timeZone, team, me }) {
  const base = `teams/${encodeURIComponent(teamId)}/schedules/meetings/`;
  const isHost = team.my_role === "host";
  const list = el("div", { class: "meeting-list", "aria-live": "polite" });
  const formSlot = el("div", { class: "meeting-form-slot" });
  const status = el("div", { class: "meeting-status" });

  async function refresh() {
    try {
      const data = await api.get(base);
      show(data.items);
    } catch (err) {
      list.replaceChildren(notice("error", el("p", {}, describeError(err))));
    }
  }

  async function act(button, call) {
    setBusy(button, true);
    try {
      await call();
      await refresh();
    } catch (err) {
      status.replaceChildren(notice("error", el("p", {}, describeError(err))));
    } finally {
      setBusy(button, false);
    }
  }

  function item(meeting) {
    const counts = meeting.counts;
    const answers = el("div", { class: "answers", role: "group", "aria-label": t("schedule.meetings.answer") },
      ANSWERS.map((answer) => {
        const button = el("button", {
          type: "button", class: "btn btn-secondary btn-sm", dataset: { answer },
          "aria-pressed": String(meeting.my_answer === answer),
        }, t(`schedule.meetings.${answer}`));
        button.addEventListener("click", () => act(button, () => api.put(`${base}${meeting.id}/answer/`, { answer })));
        return button;
      }));
    const mayCancel = isHost || (meeting.status === "proposed" && meeting.created_by === me.id);
    const actions = [];
    if (isHost && meeting.status === "proposed") {
      const confirm = el("button", { type: "button", class: "btn btn-primary btn-sm", dataset: { action: "confirm-meeting" } },
        t("schedule.meetings.confirm"));
      confirm.addEventListener("click", () => act(confirm, () => api.post(`${base}${meeting.id}/confirm/`)));
      actions.push(confirm);
    }
    const changeSlot = el("div", { class: "meeting-change" });
    if (mayCancel) {
      const change = el("button", { type: "button", class: "btn btn-secondary btn-sm", dataset: { action: "change-meeting" } },
        t("schedule.meetings.change"));
      change.addEventListener("click", () => changeSlot.replaceChildren(changeForm(meeting)));
      actions.push(change);
    }
    if (mayCancel) {
      const cancel = el("button", { type: "button", class: "btn btn-ghost btn-sm", dataset: { action: "cancel-meeting" } },
        t("schedule.meetings.cancel"));
      cancel.addEventListener("click", () => {
        if (window.confirm(t("schedule.meetings.cancelConfirm"))) act(cancel, () => api.post(`${base}${meeting.id}/cancel/`));
      });
      actions.push(cancel);
    }
    const going = meeting.answers.filter((a) => a.answer === "going").map((a) => a.nickname || "?");
    return el("li", { class: "meeting", dataset: { meetingId: meeting.id, status: meeting.status, going: counts.going,
                                                   maybe: counts.maybe } },
      el("div", { class: "row" }, el("strong", { class: "title" }, meeting.title),
        meeting.status === "proposed" ? el("span", { class: "badge" }, t("schedule.meetings.proposed")) : ""),
      el("p", { class: "when" }, when(meeting, timeZone)),
      meeting.place ? el("p", { class: "muted place" }, meeting.place) : "",
      el("p", { class: "counts muted" }, t("schedule.meetings.counts", {
        going: counts.going, maybe: counts.maybe, notGoing: counts.not_going, pending: counts.pending })),
      going.length ? el("p", { class: "who" }, t("schedule.meetings.comingList", { names: going.join(", ") })) : "",
      answers, actions.length ? el("div", { class: "form-actions" }, actions) : "", changeSlot);
  }

  /** A new start (wall time in the team's zone: sent without an offset) and length for a meeting. */
  function changeForm(meeting) {
    const id = `meeting-start-${meeting.id}`;
    const start = el("input", { id, type: "datetime-local", name: "start", required: true,
                                value: meeting.local_start.slice(0, 16) });
    const save = el("button", { type: "submit", class: "btn btn-primary btn-sm", dataset: { action: "save-meeting" } },
      t("schedule.meetings.saveChange"));
    const form = el("form", { class: "meeting-form" },
      el("div", { class: "field" }, el("label", { for: id }, t("schedule.meetings.newStart", { zone: timeZone })), start),
      el("div", { class: "form-actions" }, save));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      act(save, () => api.patch(`${base}${meeting.id}/`, { start: `${start.value}:00`,
                                                            duration_minutes: meeting.duration_minutes }));
    });
    return form;
  }

  function show(items) {
    list.replaceChildren(items.length ? el("ol", { class: "meetings" }, items.map(item))
      : el("p", { class: "empty" }, t("schedule.meetings.none")));
  }

  function book(window_) {
    const minutes = Math.round((Date.parse(window_.end) - Date.parse(window_.start)) / 60000);
    const title = el("input", { id: "meeting-title", name: "title", required: true, maxlength: 100,
                                value: t("schedule.meetings.defaultTitle") });
    const place = el("input", { id: "meeting-place", name: "place", maxlength: 300 });
    const submit = el("button", { type: "submit", class: "btn btn-primary", dataset: { action: "book-meeting" } },
      isHost ? t("schedule.meetings.book") : t("schedule.meetings.propose"));
    const form = el("form", { class: "meeting-form" },
      el("p", { class: "when" }, when(window_, timeZone)),
      el("div", { class: "field" }, el("label", { for: "meeting-title" }, t("schedule.meetings.title")), title),
      el("div", { class: "field" }, el("label", { for: "meeting-place" }, t("schedule.meetings.place")), place),
      el("div", { class: "form-actions" }, submit));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      setBusy(submit, true);
      try {
        const made = await api.post(base, { title: title.value, start: window_.start, duration_minutes: minutes,
                                            place: place.value });
        formSlot.replaceChildren();
        const missing = (made.not_free || []).map((m) => m.nickname || "?");
        status.replaceChildren(notice(missing.length ? "warning" : "success", el("p", { dataset: { booked: made.id } },
          missing.length ? t("schedule.meetings.notFree", { names: missing.join(", ") }) : t("schedule.meetings.booked"))));
        await refresh();
      } catch (err) {
        status.replaceChildren(notice("error", el("p", {}, describeError(err))));
      } finally {
        setBusy(submit, false);
      }
    });
    formSlot.replaceChildren(form);
    title.focus();
  }

  const stop = subscribe(`team.${teamId}`, (frame) => {
    if (String((frame && frame.type) || "").startsWith("meeting.")) refresh();
  });
  const node = el("section", { class: "card meetings-card", "aria-labelledby": "meetings-title" },
    el("h2", { id: "meetings-title" }, t("schedule.meetings.heading")), formSlot, status, list);
  refresh();
  return { node, book, destroy: stop };
}
