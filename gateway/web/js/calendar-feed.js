/**
 * The profile's calendar feed card: a private webcal:// URL listing my teams' meetings and milestone
 * deadlines. The URL is shown once, when made (only its hash is kept); making a new one revokes the old,
 * "Turn off" revokes it.
 *
 *   calendarFeedSection() → node
 */

import { api, describeError } from "./api.js";
import { el, notice, setBusy } from "./dom.js";
import { formatDateTime, t } from "./i18n.js";

const PATH = "schedules/feed/";

export function calendarFeedSection() {
  const state = el("p", { class: "muted", dataset: { feed: "unknown" } });
  const shown = el("div", { class: "feed-url" });
  const make = el("button", { type: "button", class: "btn btn-secondary btn-sm", dataset: { action: "feed-new" } });
  const off = el("button", { type: "button", class: "btn btn-ghost btn-sm", dataset: { action: "feed-off" } },
    t("profile.feed.off"));

  function show(status) {
    state.dataset.feed = status.active ? "on" : "off";
    state.textContent = status.active ? t("profile.feed.on", { when: formatDateTime(status.created_at) })
      : t("profile.feed.none");
    make.textContent = status.active ? t("profile.feed.renew") : t("profile.feed.make");
    off.hidden = !status.active;
  }

  async function run(button, call) {
    setBusy(button, true);
    try {
      await call();
    } catch (err) {
      shown.replaceChildren(notice("error", el("p", {}, describeError(err))));
    } finally {
      setBusy(button, false);
    }
  }

  make.addEventListener("click", () => run(make, async () => {
    const made = await api.post(PATH);
    show(made);
    shown.replaceChildren(
      el("p", {}, t("profile.feed.copyOnce")),
      el("input", { class: "feed-link", readonly: true, value: made.webcal_url, "aria-label": t("profile.feed.title"),
                    onfocus: (event) => event.target.select() }),
      el("p", {}, el("a", { href: made.webcal_url, dataset: { action: "feed-subscribe" } }, t("profile.feed.subscribe"))));
  }));
  off.addEventListener("click", () => run(off, async () => {
    await api.delete(PATH);
    shown.replaceChildren();
    show({ active: false });
  }));
  api.get(PATH).then(show, (err) => state.replaceChildren(notice("error", el("p", {}, describeError(err)))));
  return el("section", { class: "card stack calendar-feed" },
    el("h2", {}, t("profile.feed.title")),
    el("p", { class: "muted" }, t("profile.feed.lead")),
    state, el("div", { class: "row" }, make, off), shown);
}
