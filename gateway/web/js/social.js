/**
 * Sign-in with a provider (OpenID Connect — Google, Microsoft, GitLab, Keycloak… — or GitHub).
 *
 *   providerButtons(mode)    "Continue with …" links for the configured providers (none: nothing shown);
 *                            a plain navigation to /api/v1/users/oauth/<name>/start/, the server does the rest
 *   providerError(query)     the notice for ?oauth_error=<code> that the server's callback redirects with
 *   connectedAccounts()      the profile's "Connected accounts" card: connect, disconnect, set a password
 */

import { api, describeError } from "./api.js";
import { el, field, icon, notice, onSubmit, setBusy, setNotice, toast } from "./dom.js";
import { has, t } from "./i18n.js";
import { LIMITS, passwordProblem, problems } from "./rules.js";

let configured = null;  // the providers, asked once per page load

async function providers() {
  if (!configured) {
    configured = api.get("users/oauth/providers/").then((data) => data.providers || [],
                                                         () => { configured = null; return []; });
  }
  return configured;
}

/** The buttons; `mode` is "login" or "signup" (only the wording differs: the flow is the same). */
export function providerButtons(mode) {
  const box = el("div", {});  // empty (no room taken) until providers are known
  providers().then((list) => {
    if (!list.length) return;
    box.replaceChildren(
      el("p", { class: "divider-label" }, t(mode === "signup" ? "social.orSignUp" : "social.orLogIn")),
      ...list.map((provider) => el("a", {
        class: `btn btn-secondary btn-block provider-button provider-${provider.name}`,
        href: `/api/v1/users/oauth/${encodeURIComponent(provider.name)}/start/`,
        "data-provider": provider.name,
      }, t("social.continueWith", { provider: provider.label }))));
    box.className = "provider-buttons stack";
  });
  return box;
}

/** The notice for a failed provider sign-in (?oauth_error=…&provider=…), or null. The provider is named by its
 *  configured label, never by text from the address bar (a crafted link cannot put words in the notice). */
export function providerError(query) {
  const code = query.get("oauth_error");
  if (!code) return null;
  const key = has(`social.error.${code}`) ? `social.error.${code}` : "social.error.unknown";
  const kind = code === "access_denied" ? "info" : code === "email_not_verified" ? "warning" : "error";
  const box = el("div", { class: "provider-error", "data-code": code });
  providers().then((list) => {
    const known = list.find((provider) => provider.name === query.get("provider"));
    box.replaceChildren(notice(kind, t(key, { provider: known ? known.label : t("social.theProvider") })));
  });
  return box;
}

function identityRow(identity, onRemove) {
  const remove = el("button", { type: "button", class: "btn btn-secondary btn-sm",
                                "data-disconnect": identity.provider }, t("social.disconnect"));
  remove.addEventListener("click", () => onRemove(identity, remove));
  return el("li", { class: "connected-account", "data-provider": identity.provider },
    el("span", {}, icon("user"), " ", el("strong", {}, identity.label),
       identity.email ? el("span", { class: "muted" }, ` — ${identity.email}`) : null),
    remove);
}

function setPasswordForm(onDone) {
  const form = el("form", { class: "stack", "aria-label": t("social.setPasswordTitle") },
    field({ name: "new_password", label: t("field.newPassword"), type: "password", autocomplete: "new-password",
            required: true, hint: t("signup.passwordHint", { min: LIMITS.passwordMin }) }),
    el("div", { class: "form-notice" }),
    el("div", { class: "form-actions" },
       el("button", { type: "submit", class: "btn btn-primary" }, t("social.setPassword"))));
  onSubmit(form, async (values, { slot }) => {
    await api.post("users/me/password/", { new_password: values.new_password });
    setNotice(slot, "success", t("social.passwordSet"));
    onDone();
  }, {
    busyLabel: t("common.saving"),
    validate: (v) => problems({ new_password: passwordProblem(v.new_password, "") }),
  });
  return form;
}

/** The "Connected accounts" card of the profile page. */
export function connectedAccounts(query) {
  const section = el("section", { class: "card stack connected-accounts", "aria-label": t("social.title") },
    el("h2", {}, t("social.title")));
  const body = el("div", { class: "stack" });
  section.append(body);

  async function refresh(message = null) {
    let data;
    try {
      data = await api.get("users/me/identities/");
    } catch (err) {
      body.replaceChildren(notice("error", describeError(err)));
      return;
    }
    const linked = new Set(data.identities.map((identity) => identity.provider));
    const list = data.identities.length
      ? el("ul", { class: "action-list" }, data.identities.map((identity) => identityRow(identity, disconnect)))
      : el("p", { class: "muted" }, t("social.none"));
    const connectable = data.providers.filter((provider) => !linked.has(provider.name));
    const connects = connectable.map((provider) => {
      const button = el("button", { type: "button", class: "btn btn-secondary", "data-connect": provider.name },
                        t("social.connect", { provider: provider.label }));
      button.addEventListener("click", () => connect(provider, button));
      return button;
    });
    body.replaceChildren(...[
      message,
      el("p", { class: "muted" }, t("social.lead")),
      list,
      connects.length ? el("div", { class: "form-actions" }, connects) : null,
      data.has_password ? null : el("div", { class: "stack" },
        el("h3", {}, t("social.setPasswordTitle")),
        el("p", { class: "muted" }, t("social.setPasswordLead")),
        setPasswordForm(() => refresh(notice("success", t("social.passwordSet"))))),
    ].filter(Boolean));
  }

  async function connect(provider, button) {
    setBusy(button, true, t("common.working"));
    try {
      const { authorize_url: url } = await api.post(`users/oauth/${encodeURIComponent(provider.name)}/connect/`);
      window.location.assign(url);
    } catch (err) {
      setBusy(button, false);
      toast(describeError(err), "error");
    }
  }

  async function disconnect(identity, button) {
    setBusy(button, true, t("common.working"));
    try {
      await api.delete(`users/me/identities/${identity.id}/`);
      toast(t("social.disconnected", { provider: identity.label }), "success");
      await refresh();
    } catch (err) {
      setBusy(button, false);
      toast(describeError(err), "error");
    }
  }

  const connected = query?.get("connected");
  const first = connected
    ? notice("success", t("social.connected"))
    : providerError(query ?? new URLSearchParams());
  refresh(first);
  return section;
}
