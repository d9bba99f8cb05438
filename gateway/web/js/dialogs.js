/**
 * Dialogs any page may open:
 *
 *   modal({title, body, className, onClose})  a <dialog> (closes on Esc, the close button, or close())
 *   confirmAction({…})                        a dialog that runs an action with progress and shows its
 *                                             error in place (describe(err): the sentence, default
 *                                             describeError; team pages pass teamError)
 *   closeDialogs()                            close every open dialog (when leaving a page)
 */

import { describeError } from "./api.js";
import { el, setBusy, setNotice } from "./dom.js";
import { t } from "./i18n.js";

const openDialogs = new Set();

/**
 * A modal dialog. body: nodes to show; onClose: called once when it closes. Returns {dialog, close, slot}
 * where slot is a notice area at the bottom of the dialog.
 */
export function modal({ title, body = [], className = "", onClose = null }) {
  const heading = el("h2", { class: "modal-title" }, title);
  const close = el("button", { type: "button", class: "modal-close", "aria-label": t("common.close") }, "×");
  const dialog = el("dialog", { class: ["modal", className] },
    el("div", { class: "modal-head" }, heading, close),
    el("div", { class: "modal-body" }, body));
  let closed = false;
  const finish = () => {
    if (closed) return;
    closed = true;
    openDialogs.delete(dialog);
    dialog.remove();
    if (onClose) onClose();
  };
  close.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", finish);
  document.body.append(dialog);
  openDialogs.add(dialog);
  dialog.showModal();
  const first = dialog.querySelector("input:not([type=hidden]), textarea, select");
  if (first) first.focus();
  return { dialog, close: () => dialog.close() };
}

/** Close every dialog a team page opened (called when leaving the page). */
export function closeDialogs() {
  for (const dialog of [...openDialogs]) dialog.close();
}

/**
 * Ask before doing something. `typed`: a text the person must type to enable the button (disbanding).
 * action() runs with the button busy; its error is shown inside the dialog; success closes it.
 */
export function confirmAction({
  title, message, confirmLabel, busyLabel, danger = false, typed = null, action, describe = describeError,
}) {
  const slot = el("div", { class: "form-notice" });
  const button = el("button", { type: "submit", class: `btn ${danger ? "btn-danger" : "btn-primary"}`,
                                disabled: Boolean(typed) }, confirmLabel);
  const cancel = el("button", { type: "button", class: "btn btn-secondary" }, t("teams.cancel"));
  const input = typed ? el("input", { type: "text", name: "typed", autocomplete: "off", spellcheck: "false",
                                      "aria-label": t("teams.typeToConfirm", { text: typed }) }) : null;
  const form = el("form", { class: "stack" },
    (Array.isArray(message) ? message : [message]).map((line) => el("p", {}, line)),
    typed ? el("div", { class: "field" }, el("label", {}, t("teams.typeToConfirm", { text: typed })), input) : null,
    slot,
    el("div", { class: "form-actions" }, cancel, button));
  const box = modal({ title, body: form, className: "modal-confirm" });
  cancel.addEventListener("click", box.close);
  if (input) input.addEventListener("input", () => { button.disabled = input.value.trim() !== typed.trim(); });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (button.disabled) return;
    setNotice(slot, null);
    setBusy(button, true, busyLabel);
    cancel.disabled = true;
    try {
      await action();
      box.close();
    } catch (err) {
      setBusy(button, false);
      cancel.disabled = false;
      setNotice(slot, "error", describe(err));
    }
  });
  return box;
}
