/**
 * Small DOM helpers. Build with `el(tag, attrs, ...children)`: text is always set as text (never
 * innerHTML), so user-written strings cannot inject markup.
 *
 *   el("a", {href: "/teams", class: "btn"}, t("nav.teams"))
 *   el("button", {type: "button", onclick: () => save()}, t("common.save"))
 *
 * Forms: `field({...})` makes a labelled input with a hint and an error slot; `onSubmit(form, action)`
 * shows progress on the submit button, clears and shows field errors (from client-side checks or the
 * API's details) and puts any other failure in the form's notice. `toast(message, kind)` reports a
 * result that outlives the page.
 */

import { describeError, ApiError } from "./api.js";
import { t } from "./i18n.js";

const PROPERTIES = new Set(["value", "checked", "disabled", "selected", "hidden", "indeterminate"]);
const SVG_NS = "http://www.w3.org/2000/svg";
let uid = 0;

function attach(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false || child === true) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** An element with attributes (on* functions become listeners) and children (strings become text). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (PROPERTIES.has(key)) node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  attach(node, children);
  return node;
}

/** Replace a node's children (arrays are flattened; null and false are skipped, as in el()). */
export function fill(node, ...children) {
  node.replaceChildren();
  attach(node, children);
  return node;
}

const ICONS = {
  calendar: "M7 3v3M17 3v3M4 9h16M5 5h14a1 1 0 0 1 1 1v13a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1z",
  mindmap: "M12 9a3 3 0 1 0 0 6 3 3 0 0 0 0-6zM5 4a2 2 0 1 0 0 4 2 2 0 0 0 0-4zM19 16a2 2 0 1 0 0 4 2 2 0 0 0 0-4zM19 4a2 2 0 1 0 0 4 2 2 0 0 0 0-4zM6.6 7.2l3.2 2.6M17.4 7.2l-3.2 2.6M14.3 14l3.2 2.6",
  todo: "M9 6h11M9 12h11M9 18h11M4 6l1 1 2-2M4 12l1 1 2-2M4 18l1 1 2-2",
  flag: "M5 21V4M5 4h11l-2 4 2 4H5",
  board: "M4 4h16v12H8l-4 4V4zM8 9h8M8 12h5",
  mail: "M4 6h16v12H4zM4 7l8 6 8-6",
  check: "M5 12l5 5 9-10",
  alert: "M12 8v5M12 16.5v.5M10.3 4l-7.6 13a2 2 0 0 0 1.7 3h15.2a2 2 0 0 0 1.7-3L13.7 4a2 2 0 0 0-3.4 0z",
  menu: "M4 7h16M4 12h16M4 17h16",
  globe: "M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zM3 12h18M12 3c2.5 2.6 3.8 5.6 3.8 9s-1.3 6.4-3.8 9c-2.5-2.6-3.8-5.6-3.8-9S9.5 5.6 12 3z",
  user: "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4 21c0-4 3.6-6 8-6s8 2 8 6",
  lock: "M6 11h12v10H6zM8 11V7a4 4 0 0 1 8 0v4",
  doc: "M7 3h7l5 5v13H7zM14 3v5h5M10 13h6M10 17h6",
};

/** A 24×24 line icon (decorative: hidden from screen readers). */
export function icon(name, className = "icon") {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", className);
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute("d", ICONS[name] || ICONS.alert);
  svg.append(path);
  return svg;
}

/** Set the tab's title. */
export function pageTitle(text) {
  document.title = text ? `${text} · TeamMoa` : "TeamMoa";
}

/** A spinner with a text for screen readers. */
export function spinner(label = t("common.loading")) {
  return el("span", { class: "spinner", role: "status" }, el("span", { class: "visually-hidden" }, label));
}

/** A block saying something is loading. */
export function loading(label = t("common.loading")) {
  return el("div", { class: "loading" }, spinner(label), el("span", {}, label));
}

/** A message box: kind is info, success, warning or error. */
export function notice(kind, ...children) {
  return el("div", { class: `notice notice-${kind}`, role: kind === "error" ? "alert" : "status" },
    icon(kind === "success" ? "check" : kind === "info" ? "mail" : "alert", "icon notice-icon"),
    el("div", { class: "notice-body" }, ...children));
}

/** Replace what a slot shows with a notice (or nothing when kind is null). */
export function setNotice(slot, kind, ...children) {
  if (!slot) return;
  fill(slot, kind ? notice(kind, ...children) : null);
}

/**
 * A labelled form field with a hint and an error slot.
 * options: name, label, type (text, email, password, textarea…), value, hint, autocomplete, required,
 * maxlength, minlength, rows, inputmode, placeholder.
 */
export function field(options) {
  const { name, label, type = "text", value = "", hint, rows = 4, ...rest } = options;
  const id = `f-${name}-${++uid}`;
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const attrs = { id, name, "aria-describedby": `${hint ? hintId + " " : ""}${errorId}`, ...rest };
  const input = type === "textarea"
    ? el("textarea", { ...attrs, rows }, value)
    : el("input", { ...attrs, type, value });
  const control = type === "password" ? el("div", { class: "password-control" }, input, revealButton(input)) : input;
  return el("div", { class: "field", dataset: { field: name } },
    el("label", { for: id }, label, options.required ? null : el("span", { class: "optional" }, ` ${t("common.optional")}`)),
    control,
    hint ? el("p", { class: "field-hint", id: hintId }, hint) : null,
    el("p", { class: "field-message", id: errorId, "aria-live": "polite" }));
}

function revealButton(input) {
  const button = el("button", { type: "button", class: "reveal", "aria-pressed": "false" }, t("common.show"));
  button.addEventListener("click", () => {
    const shown = input.type === "password";
    input.type = shown ? "text" : "password";
    button.textContent = shown ? t("common.hide") : t("common.show");
    button.setAttribute("aria-pressed", String(shown));
  });
  return button;
}

/** A counter under a text input or textarea: "12 / 500". */
export function counter(form, name, max) {
  const input = form.elements.namedItem(name);
  const wrapper = input.closest(".field");
  const out = el("p", { class: "field-counter", "aria-hidden": "true" });
  const update = () => {
    out.textContent = `${input.value.length} / ${max}`;
    out.classList.toggle("over", input.value.length > max);
  };
  input.addEventListener("input", update);
  update();
  wrapper.append(out);
}

function fieldBox(form, name) {
  return form.querySelector(`.field[data-field="${CSS.escape(name)}"]`);
}

/** Show a message under a field: kind "error" (default), "ok" or "note". False if there is no such field. */
export function setFieldMessage(form, name, message, kind = "error") {
  const box = fieldBox(form, name);
  if (!box) return false;
  const input = box.querySelector("input, textarea, select");
  const slot = box.querySelector(".field-message");
  for (const each of ["error", "ok", "note"]) box.classList.toggle(`has-${each}`, Boolean(message) && kind === each);
  if (input) input.setAttribute("aria-invalid", message && kind === "error" ? "true" : "false");
  slot.textContent = message || "";
  return true;
}

export function clearFieldMessages(form) {
  for (const box of form.querySelectorAll(".field")) setFieldMessage(form, box.dataset.field, "");
}

/** Show field errors ({field: message}); the messages of unknown fields are returned. */
export function showFieldErrors(form, fields) {
  const rest = [];
  let first = null;
  for (const [name, message] of Object.entries(fields)) {
    if (setFieldMessage(form, name, message)) first = first || name;
    else rest.push(message);
  }
  if (first) fieldBox(form, first).querySelector("input, textarea, select")?.focus();
  return rest;
}

/** Put a button into its busy state (disabled, spinner, progress text) and back. */
export function setBusy(button, busy, label = t("common.working")) {
  if (!button) return;
  if (busy) {
    button.dataset.label = button.textContent;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    button.replaceChildren(spinner(label), label);
  } else {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    if (button.dataset.label !== undefined) button.textContent = button.dataset.label;
  }
}

/** The form's values as an object (strings; unchecked boxes are absent). */
export function valuesOf(form) {
  const values = {};
  for (const [key, value] of new FormData(form)) if (typeof value === "string") values[key] = value;
  return values;
}

/** Show a failure on a form: field details under their inputs, the rest in the form's notice. */
export function showFormError(form, err, slot = form.querySelector(".form-notice")) {
  const rest = err instanceof ApiError ? showFieldErrors(form, err.fields) : [];
  const fieldsShown = err instanceof ApiError && Object.keys(err.fields).length > rest.length;
  const summary = fieldsShown ? t("errors.check_fields") : describeError(err);
  setNotice(slot, "error", summary, rest.length ? el("ul", {}, rest.map((m) => el("li", {}, m))) : null);
  if (!(err instanceof ApiError)) console.error(err);
}

/**
 * Handle a form's submission: validate(values) may return {field: message} to stop early; then
 * action(values) runs with the submit button busy. Errors are shown on the form; a successful action
 * reports its own result.
 */
export function onSubmit(form, action, { validate, busyLabel } = {}) {
  form.noValidate = true;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (form.dataset.busy === "true") return;
    const slot = form.querySelector(".form-notice");
    clearFieldMessages(form);
    setNotice(slot, null);
    const values = valuesOf(form);
    const problems = validate ? validate(values) || {} : {};
    if (Object.keys(problems).length) {
      const rest = showFieldErrors(form, problems);
      setNotice(slot, "error", t("errors.check_fields"), rest.length ? el("ul", {}, rest.map((m) => el("li", {}, m))) : null);
      return;
    }
    const button = form.querySelector('[type="submit"]');
    form.dataset.busy = "true";
    setBusy(button, true, busyLabel);
    try {
      await action(values, { form, slot });
    } catch (err) {
      showFormError(form, err, slot);
    } finally {
      form.dataset.busy = "false";
      setBusy(button, false);
    }
  });
}

const TOASTS_SHOWN = 2;

/**
 * A short message in the corner that stays for a few seconds (or until closed). The same message again
 * restarts its time instead of stacking a copy, and at most TOASTS_SHOWN are shown (the oldest goes), so
 * toasts never pile up over the page.
 */
export function toast(message, kind = "info", { timeoutMs = 6000 } = {}) {
  const region = document.getElementById("toasts");
  if (!region) return;
  const text = String(message);
  const same = [...region.children].find((item) => item.dataset.kind === kind && item.dataset.text === text);
  const close = el("button", { type: "button", class: "toast-close", "aria-label": t("common.close") }, "×");
  const item = same || el("div", { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status",
                                   dataset: { kind, text } }, el("span", {}, text), close);
  const remove = () => item.remove();
  if (!same) close.addEventListener("click", remove);
  clearTimeout(Number(item.dataset.timer || 0));
  region.append(item);
  while (region.children.length > TOASTS_SHOWN) region.firstElementChild.remove();
  if (timeoutMs) item.dataset.timer = String(setTimeout(remove, kind === "error" ? timeoutMs * 2 : timeoutMs));
}

/** Call fn after the input has been quiet for waitMs; `.cancel()` drops a pending call. */
export function debounce(fn, waitMs = 400) {
  let timer = null;
  const debounced = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), waitMs);
  };
  debounced.cancel = () => clearTimeout(timer);
  return debounced;
}

/** A page heading with an optional line under it and actions beside it. */
export function pageHeader(title, lead = null, ...actions) {
  return el("header", { class: "page-header" },
    el("div", {}, el("h1", {}, title), lead ? el("p", { class: "lead" }, lead) : null),
    actions.length ? el("div", { class: "page-actions" }, actions) : null);
}

/** The centred card most account pages live in. */
export function card(...children) {
  return el("div", { class: "container narrow" }, el("section", { class: "card" }, children));
}

/** A <select> inside the usual field markup. options: [[value, label], …]. */
export function selectField({ name, label, options, value = "", hint = null }) {
  const id = `f-${name}-${Math.random().toString(36).slice(2, 8)}`;
  const select = el("select", { id, name },
    options.map(([v, text]) => el("option", { value: v, selected: String(v) === String(value) }, text)));
  return el("div", { class: "field", dataset: { field: name } },
    el("label", { for: id }, label), select,
    hint ? el("p", { class: "field-hint" }, hint) : null,
    el("p", { class: "field-message", "aria-live": "polite" }));
}
