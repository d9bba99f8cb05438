/** Sign up: the account form, with a live "is this free?" check on username, e-mail and nickname. */

import { rememberEmail } from "../account.js";
import { api } from "../api.js";
import { card, counter, debounce, el, field, onSubmit, pageTitle, setFieldMessage } from "../dom.js";
import { t } from "../i18n.js";
import { navigate } from "../router.js";
import { providerButtons } from "../social.js";
import { emailProblem, LIMITS, nicknameProblem, passwordProblem, problems, profileProblem,
         usernameProblem } from "../rules.js";

const CHECKED = { username: usernameProblem, email: emailProblem, nickname: nicknameProblem };
const CHECK_DELAY_MS = 450;  // wait for a pause in typing: the check is rate-limited

/** Ask the server whether a value is free, as the user types (after a pause); stale answers are dropped.
 *  Returns the check to run at once (after a submission that failed for another reason). */
function watchAvailability(form, name) {
  const input = form.elements.namedItem(name);
  let controller = null;
  const checkNow = async () => {
    const value = input.value.trim();
    controller?.abort();
    if (!value || CHECKED[name](value)) return;  // the local rule speaks on blur
    controller = new AbortController();
    try {
      const answer = (await api.get("users/check_availability/", { query: { [name]: value },
                                                                   signal: controller.signal }))[name];
      if (input.value.trim() !== value || !answer) return;
      if (answer.available) setFieldMessage(form, name, t("signup.available"), "ok");
      else setFieldMessage(form, name, t(`fieldErrors.${name}.taken`));
    } catch (err) {
      if (err.name === "AbortError") return;
      setFieldMessage(form, name, t("signup.cannotCheck"), "note");
    }
  };
  const check = debounce(checkNow, CHECK_DELAY_MS);
  input.addEventListener("input", () => {
    setFieldMessage(form, name, "");
    check();
  });
  form.addEventListener("submit", () => {  // the server's answer to the submission speaks now
    check.cancel();
    controller?.abort();
  });
  input.addEventListener("blur", () => {
    const problem = input.value.trim() ? CHECKED[name](input.value) : null;
    if (problem) setFieldMessage(form, name, problem);
  });
  return checkNow;
}

export function render(root) {
  pageTitle(t("signup.title"));
  const form = el("form", { class: "stack", "aria-label": t("signup.title") },
    field({ name: "username", label: t("field.username"), autocomplete: "username", required: true,
            maxlength: LIMITS.usernameMax, hint: t("signup.usernameHint"), autocapitalize: "none", spellcheck: "false" }),
    field({ name: "email", label: t("field.email"), type: "email", autocomplete: "email", required: true,
            hint: t("signup.emailHint") }),
    field({ name: "nickname", label: t("field.nickname"), autocomplete: "nickname", required: true,
            maxlength: LIMITS.nicknameMax, hint: t("signup.nicknameHint") }),
    field({ name: "password", label: t("field.password"), type: "password", autocomplete: "new-password",
            required: true, hint: t("signup.passwordHint", { min: LIMITS.passwordMin }) }),
    field({ name: "profile", label: t("field.profile"), type: "textarea", rows: 3, hint: t("signup.profileHint") }),
    el("div", { class: "form-notice" }),
    el("button", { type: "submit", class: "btn btn-primary btn-block" }, t("signup.submit")));
  counter(form, "profile", LIMITS.profileMax);
  const checks = Object.keys(CHECKED).map((name) => watchAvailability(form, name));
  // A submission stopped by one problem (a common password) still tells at once that the username is taken,
  // rather than on the next try.
  const checkTheRest = () => checks.forEach((checkNow) => checkNow());

  onSubmit(form, async (values) => {
    const body = { username: values.username.trim(), email: values.email.trim(), nickname: values.nickname.trim(),
                   password: values.password };
    if (values.profile.trim()) body.profile = values.profile.trim();
    try {
      await api.post("users/register/", body);
    } catch (err) {
      checkTheRest();
      throw err;
    }
    rememberEmail(body.email);
    navigate("/check-email");
  }, {
    busyLabel: t("signup.submitting"),
    validate: (v) => {
      const found = problems({ username: usernameProblem(v.username), email: emailProblem(v.email),
                               nickname: nicknameProblem(v.nickname), password: passwordProblem(v.password, v.username),
                               profile: profileProblem(v.profile) });
      if (found && Object.keys(found).length) checkTheRest();
      return found;
    },
  });

  root.append(card(
    el("h1", {}, t("signup.title")),
    el("p", { class: "lead" }, t("signup.lead")),
    form,
    providerButtons("signup"),
    el("p", { class: "card-footer" }, t("signup.haveAccount"), " ", el("a", { href: "/login" }, t("signup.toLogin")))));
}
