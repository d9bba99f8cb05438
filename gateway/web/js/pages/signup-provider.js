/**
 * /signup/provider: the first sign-in with a provider creates an account — here the visitor sees and edits the
 * username and nickname proposed from the provider's claims before it exists. The e-mail is shown as the provider
 * vouches for it; when the provider does not assert it is verified, the visitor types one and a link follows.
 */

import { rememberEmail } from "../account.js";
import { api, ApiError, describeError, userOf } from "../api.js";
import { card, el, field, loading, notice, onSubmit, pageTitle, setNotice, toast } from "../dom.js";
import { t } from "../i18n.js";
import { navigate } from "../router.js";
import { emailProblem, LIMITS, nicknameProblem, problems, usernameProblem } from "../rules.js";
import { setUser } from "../session.js";

export async function render(root) {
  pageTitle(t("social.signupTitle"));
  const box = el("div", {}, loading());  // inside the card: card() wraps its children in a container
  root.append(card(box));
  let proposal;
  try {
    proposal = await api.get("users/oauth/signup/");
  } catch (err) {
    const message = err instanceof ApiError && err.code === "no_pending_signup" ? t("social.noPending") : describeError(err);
    box.replaceChildren(el("h1", {}, t("social.signupTitle")), notice("warning", message),
      el("p", { class: "card-footer" }, el("a", { href: "/signup" }, t("login.toSignup"))));
    return;
  }
  const verified = proposal.email_verified && proposal.email;
  const form = el("form", { class: "stack", "aria-label": t("social.signupTitle") },
    field({ name: "username", label: t("field.username"), value: proposal.username, required: true,
            maxlength: LIMITS.usernameMax, hint: t("signup.usernameHint"), autocapitalize: "none", spellcheck: "false" }),
    field({ name: "nickname", label: t("field.nickname"), value: proposal.nickname, required: true,
            maxlength: LIMITS.nicknameMax, hint: t("signup.nicknameHint") }),
    verified
      ? el("p", { class: "muted", "data-email": proposal.email }, t("social.emailVerified", { email: proposal.email }))
      : field({ name: "email", label: t("field.email"), type: "email", value: proposal.email || "", required: true,
                hint: t("social.emailToVerify") }),
    el("div", { class: "form-notice" }),
    el("button", { type: "submit", class: "btn btn-primary btn-block" }, t("social.createAccount")));

  onSubmit(form, async (values, { slot }) => {
    const body = { username: values.username.trim(), nickname: values.nickname.trim() };
    if (!verified) body.email = values.email.trim();
    try {
      const data = await api.post("users/oauth/signup/", body, { retry: false });
      if (data.signed_in) {
        setUser(userOf(data));
        toast(t("login.welcome", { name: userOf(data).nickname }), "success");
        navigate("/teams");
      } else {
        rememberEmail(body.email);
        navigate("/check-email");
      }
    } catch (err) {
      if (!(err instanceof ApiError) || err.code !== "email_in_use") throw err;  // fields and the rest: the usual way
      setNotice(slot, "error", t("social.error.email_in_use", { provider: proposal.label }));
    }
  }, {
    busyLabel: t("signup.submitting"),
    validate: (v) => problems({ username: usernameProblem(v.username), nickname: nicknameProblem(v.nickname),
                                ...(verified ? {} : { email: emailProblem(v.email) }) }),
  });

  box.replaceChildren(
    el("h1", {}, t("social.signupTitle")),
    el("p", { class: "lead" }, t("social.signupLead", { provider: proposal.label })),
    form);
}
