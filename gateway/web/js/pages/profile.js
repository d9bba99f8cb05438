/** /profile: who I am, edit nickname and profile text, and the ways to password, log-out and deactivation. */

import { api, describeError, userOf } from "../api.js";
import { counter, el, field, icon, loading, notice, onSubmit, pageHeader, pageTitle, setBusy, setNotice,
         toast } from "../dom.js";
import { formatDateTime, t } from "../i18n.js";
import { navigate } from "../router.js";
import { LIMITS, nicknameProblem, problems, profileProblem } from "../rules.js";
import { logOut, setUser } from "../session.js";
import { connectedAccounts } from "../social.js";
import { calendarFeedSection } from "../calendar-feed.js";

function initials(user) {
  return Array.from((user.nickname || user.username || "?").trim())[0].toUpperCase();
}

function summary(user) {
  const facts = [
    [t("field.username"), user.username],
    [t("field.email"), user.email],
    [t("profile.joined"), formatDateTime(user.date_joined)],
    [t("profile.lastLogin"), formatDateTime(user.last_login)],
  ];
  return el("section", { class: "card profile-summary" },
    el("div", { class: "avatar", "aria-hidden": "true" }, initials(user)),
    el("div", {}, el("h2", { class: "profile-name" }, user.nickname),
      el("dl", { class: "facts" }, facts.map(([term, value]) => [el("dt", {}, term), el("dd", {}, value || "—")]))));
}

function editForm(user, onSaved) {
  const form = el("form", { class: "stack", "aria-label": t("profile.editTitle") },
    field({ name: "nickname", label: t("field.nickname"), value: user.nickname || "", required: true,
            maxlength: LIMITS.nicknameMax, autocomplete: "nickname" }),
    field({ name: "profile", label: t("field.profile"), type: "textarea", rows: 4, value: user.profile || "",
            hint: t("profile.profileHint") }),
    el("div", { class: "form-notice" }),
    el("div", { class: "form-actions" }, el("button", { type: "submit", class: "btn btn-primary" }, t("common.save"))));
  counter(form, "profile", LIMITS.profileMax);
  onSubmit(form, async (values, { slot }) => {
    const changes = {};
    if (values.nickname.trim() !== user.nickname) changes.nickname = values.nickname.trim();
    if (values.profile.trim() !== (user.profile || "")) changes.profile = values.profile.trim();
    if (!Object.keys(changes).length) {
      setNotice(slot, "info", t("profile.nothingChanged"));
      return;
    }
    const saved = userOf(await api.patch("users/me/", changes));
    Object.assign(user, saved);
    setUser(user);
    setNotice(slot, "success", t("profile.saved"));
    onSaved(user);
  }, {
    busyLabel: t("common.saving"),
    validate: (v) => problems({ nickname: nicknameProblem(v.nickname), profile: profileProblem(v.profile) }),
  });
  return form;
}

function accountSection() {
  const logout = el("button", { type: "button", class: "btn btn-secondary" }, t("nav.logout"));
  logout.addEventListener("click", async () => {
    setBusy(logout, true, t("nav.loggingOut"));
    try {
      await logOut();
      toast(t("nav.loggedOut"), "success");
      navigate("/");
    } catch (err) {
      setBusy(logout, false);
      toast(describeError(err), "error");
    }
  });
  return el("section", { class: "card stack" },
    el("h2", {}, t("profile.securityTitle")),
    el("ul", { class: "action-list" },
      el("li", {}, el("a", { href: "/profile/password" }, icon("lock"), t("profile.changePassword"))),
      el("li", {}, el("a", { href: "/profile/deactivate", class: "danger-link" }, icon("alert"), t("profile.deactivate")))),
    el("div", {}, logout));
}

export async function render(root, { query } = {}) {
  pageTitle(t("profile.title"));
  const container = el("div", { class: "container medium sections" }, pageHeader(t("profile.title")), loading());
  root.append(container);
  let user;
  try {
    user = userOf(await api.get("users/me/"));
  } catch (err) {
    container.replaceChildren(pageHeader(t("profile.title")), notice("error", describeError(err)));
    return;
  }
  const top = el("div", {}, summary(user));
  container.replaceChildren(
    pageHeader(t("profile.title"), t("profile.lead")),
    top,
    el("section", { class: "card stack" }, el("h2", {}, t("profile.editTitle")),
      editForm(user, (saved) => top.replaceChildren(summary(saved)))),
    connectedAccounts(query),
    calendarFeedSection(),
    accountSection());
}
