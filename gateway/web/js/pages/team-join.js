/**
 * /teams/join: the join wizard. Step 1, the invite code → POST join/preview/ shows the team (name, host,
 * members/capacity, description); step 2, the join password → POST join/. An invite link
 * (/teams/join?code=…) fills in the code and looks the team up at once.
 */

import { ApiError, api } from "../api.js";
import { el, field, notice, onSubmit, pageTitle, toast } from "../dom.js";
import { t } from "../i18n.js";
import { navigate } from "../router.js";
import { attempt, localise, teamIcon } from "../team-common.js";
import { problems, requiredProblem } from "../rules.js";

function steps(current) {
  return el("ol", { class: "wizard-steps" },
    ["code", "password"].map((name, index) => el("li", {
      class: index + 1 === current ? "current" : index + 1 < current ? "done" : "",
      "aria-current": index + 1 === current ? "step" : null,
    }, el("span", { class: "wizard-step-number" }, String(index + 1)), t(`teams.joinWizard.step.${name}`))));
}

function codeForm(code, onPreview) {
  const form = el("form", { class: "stack", "aria-label": t("teams.joinWizard.step.code") },
    field({ name: "invite_code", label: t("teams.field.inviteCode"), value: code, required: true,
            autocomplete: "off", autocapitalize: "characters", spellcheck: "false", maxlength: 32,
            class: "code-input", hint: t("teams.joinWizard.codeHint") }),
    el("div", { class: "form-notice" }),
    el("div", { class: "form-actions" },
      el("a", { href: "/teams", class: "btn btn-secondary" }, t("teams.cancel")),
      el("button", { type: "submit", class: "btn btn-primary" }, t("teams.joinWizard.next"))));
  onSubmit(form, async (values) => {
    const inviteCode = values.invite_code.trim();
    let preview;
    try {
      preview = await api.post("teams/join/preview/", { invite_code: inviteCode });
    } catch (err) {
      // No team has this code: say so under the code, not "it is not there any more".
      if (err instanceof ApiError && err.status === 404) {
        err.message = t("teams.joinWizard.noSuchCode");
        err.details = [{ field: "invite_code", message: err.message, type: "no_such_code" }];
      }
      throw localise(err);
    }
    onPreview(inviteCode, preview);
  }, { busyLabel: t("teams.joinWizard.looking"),
       validate: (v) => problems({ invite_code: requiredProblem(v.invite_code.trim()) }) });
  return form;
}

function previewCard(preview) {
  return el("section", { class: "join-preview", "aria-label": t("teams.joinWizard.previewLabel") },
    el("h2", { class: "join-preview-name" }, preview.name),
    el("dl", { class: "facts" },
      el("dt", {}, t("teams.joinWizard.host")), el("dd", { class: "join-host" }, preview.host_nickname || t("teams.formerMember")),
      el("dt", {}, t("teams.joinWizard.members")),
      el("dd", { class: "join-members" }, t("teams.memberCount", { count: preview.member_count, capacity: preview.capacity }))),
    el("p", { class: "join-description" }, preview.description || t("teams.noDescription")));
}

function passwordForm(code, preview, onBack) {
  const back = el("button", { type: "button", class: "btn btn-secondary" }, t("teams.joinWizard.back"));
  back.addEventListener("click", onBack);
  if (preview.is_member) {
    return el("div", { class: "stack" }, notice("info", t("teams.joinWizard.alreadyMember")),
      el("div", { class: "form-actions" }, back,
        el("a", { href: `/teams/${preview.id}`, class: "btn btn-primary" }, t("teams.joinWizard.open"))));
  }
  if (preview.member_count >= preview.capacity) {
    return el("div", { class: "stack" }, notice("warning", t("teams.errors.team_full")),
      el("div", { class: "form-actions" }, back));
  }
  const form = el("form", { class: "stack", "aria-label": t("teams.joinWizard.step.password") },
    field({ name: "password", label: t("teams.field.joinPassword"), type: "password", required: true,
            autocomplete: "off", hint: t("teams.joinWizard.passwordHint") }),
    el("div", { class: "form-notice" }),
    el("div", { class: "form-actions" }, back,
      el("button", { type: "submit", class: "btn btn-primary" }, t("teams.joinWizard.submit"))));
  onSubmit(form, async (values) => {
    const team = await attempt(api.post("teams/join/", { invite_code: code, password: values.password }));
    toast(t("teams.joinWizard.done", { name: team.name }), "success");
    navigate(`/teams/${team.id}`);
  }, { busyLabel: t("teams.joinWizard.joining"),
       validate: (v) => problems({ password: requiredProblem(v.password) }) });
  return form;
}

export function render(root, { query }) {
  pageTitle(t("teams.joinWizard.title"));
  const body = el("div", { class: "stack" });
  const box = el("section", { class: "card join-wizard" });
  root.append(el("div", { class: "container narrow" },
    el("p", { class: "breadcrumb" }, el("a", { href: "/teams" }, t("teams.backToTeams"))), box));

  function showCode(code) {
    box.replaceChildren(el("div", { class: "card-icon" }, teamIcon("key")),
      el("h1", {}, t("teams.joinWizard.title")), el("p", { class: "muted" }, t("teams.joinWizard.lead")),
      steps(1), body);
    body.replaceChildren(codeForm(code, showPassword));
  }

  function showPassword(code, preview) {
    box.replaceChildren(el("h1", {}, t("teams.joinWizard.title")), steps(2), body);
    body.replaceChildren(previewCard(preview), passwordForm(code, preview, () => showCode(code)));
    body.querySelector("input[name=password]")?.focus();
  }

  const code = (query.get("code") || "").trim();
  showCode(code);
  if (code) body.querySelector("form")?.requestSubmit();  // an invite link: look the team up at once
}
