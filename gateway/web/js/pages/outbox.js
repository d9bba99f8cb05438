/** The development outbox (embedded mode): the mail TeamMoa would have sent, with working links. */

import { api, describeError } from "../api.js";
import { el, fill, loading, notice, pageHeader, pageTitle, setBusy } from "../dom.js";
import { formatDateTime, t, tn } from "../i18n.js";

/** The same-site path of a link in a mail, so it opens here whatever site address the mail names. */
function localHref(link) {
  try {
    const url = new URL(link, location.origin);
    return url.protocol === "http:" || url.protocol === "https:" ? url.pathname + url.search + url.hash : null;
  } catch {
    return null;
  }
}

function linkLabel(path) {
  if (path.startsWith("/verify-email")) return t("outbox.verifyLink");
  if (path.startsWith("/reset-password")) return t("outbox.resetLink");
  return t("outbox.otherLink");
}

function mailCard(mail) {
  const links = (mail.links || []).map(localHref).filter(Boolean);
  return el("article", { class: "card mail", dataset: { mailId: mail.id, to: mail.to } },
    el("header", { class: "mail-header" },
      el("h2", {}, mail.subject || t("outbox.noSubject")),
      el("p", { class: "muted mail-meta" },
        el("span", {}, t("outbox.to", { to: mail.to })), " · ",
        el("time", { datetime: mail.sent_at }, formatDateTime(mail.sent_at)))),
    links.length
      ? el("ul", { class: "mail-links" }, links.map((path) => el("li", {},
        el("a", { href: path, class: "btn btn-secondary btn-sm" }, linkLabel(path)),
        el("code", { class: "mail-url" }, path))))
      : null,
    mail.text ? el("details", {}, el("summary", {}, t("outbox.showText")), el("pre", { class: "mail-text" }, mail.text))
      : null);
}

export async function render(root) {
  pageTitle(t("outbox.title"));
  const list = el("div", { class: "stack" });
  const refresh = el("button", { type: "button", class: "btn btn-secondary" }, t("common.refresh"));

  async function load() {
    setBusy(refresh, true, t("common.loading"));
    if (!list.childElementCount) list.replaceChildren(loading());
    try {
      const data = await api.get("users/dev/outbox/");
      const items = data?.items || [];
      fill(list,
        el("p", { class: "muted" }, tn("outbox.count", items.length)),
        items.length ? items.map(mailCard) : el("p", { class: "empty" }, t("outbox.empty")));
    } catch (err) {
      list.replaceChildren(notice(err.status === 404 ? "info" : "error",
        err.status === 404 ? t("outbox.unavailable") : describeError(err)));
    } finally {
      setBusy(refresh, false);
    }
  }

  refresh.addEventListener("click", load);
  root.append(el("div", { class: "container" },
    pageHeader(t("outbox.title"), t("outbox.lead"), refresh),
    list));
  await load();
}
