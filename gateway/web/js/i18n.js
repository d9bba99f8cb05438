/**
 * Strings of the UI, in English and Korean.
 *
 * Every string the UI shows comes from one catalogue per language: i18n/en.json and i18n/ko.json
 * (flat keys such as "login.title"; a value may be {"one": …, "other": …} for counts). `t(key, params)`
 * fills `{name}` placeholders; `tn(key, n)` picks the plural form. The language follows the browser
 * (navigator.language: ko → Korean, anything else → English) until the user picks one with the switch,
 * which is remembered in localStorage.
 */

export const LANGUAGES = ["en", "ko"];
const STORAGE_KEY = "teammoa.lang";
const catalogues = new Map();
const listeners = new Set();
const warned = new Set();
let current = "en";

function saved() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;  // storage can be disabled; the browser's language still applies
  }
}

/** The language to start with: the saved choice, else the browser's. */
export function detectLanguage() {
  const choice = saved();
  if (LANGUAGES.includes(choice)) return choice;
  return (navigator.language || "").toLowerCase().startsWith("ko") ? "ko" : "en";
}

async function load(lang) {
  if (!catalogues.has(lang)) {
    const response = await fetch(`/i18n/${lang}.json`, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`cannot load the ${lang} catalogue (${response.status})`);
    catalogues.set(lang, await response.json());
  }
  return catalogues.get(lang);
}

/** Load the catalogues; call once before rendering anything. */
export async function initI18n() {
  await load("en");  // the fallback for a key a translation lacks
  current = detectLanguage();
  try {
    await load(current);
  } catch (err) {
    console.error(err);
    current = "en";
  }
  document.documentElement.lang = current;
}

export function language() {
  return current;
}

/** Switch the language, remember the choice and tell the listeners (they re-render). */
export async function setLanguage(lang) {
  if (!LANGUAGES.includes(lang)) return;
  await load(lang);
  current = lang;
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // not remembered, but switched for this visit
  }
  document.documentElement.lang = lang;
  listeners.forEach((fn) => fn(lang));
}

export function onLanguageChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function lookup(key) {
  const own = catalogues.get(current)?.[key];
  return own !== undefined ? own : catalogues.get("en")?.[key];
}

/** Whether the catalogue has a key. */
export function has(key) {
  return lookup(key) !== undefined;
}

/** The message for a key, with `{name}` placeholders filled from params. */
export function t(key, params = {}) {
  let text = lookup(key);
  if (text === undefined) {
    if (!warned.has(key)) {
      warned.add(key);
      console.warn(`i18n: missing key ${key}`);
    }
    return key;
  }
  if (typeof text === "object") {
    const n = typeof params.n === "number" ? params.n : 0;
    const form = new Intl.PluralRules(current).select(n);
    text = text[form] ?? text.other;
  }
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** The message for a count: t(key, {n, ...params}) with the right plural form. */
export function tn(key, n, params = {}) {
  return t(key, { ...params, n });
}

function locale() {
  return current === "ko" ? "ko-KR" : "en";
}

/** A date and time for people, in the UI's language and the browser's time zone. */
export function formatDateTime(iso) {
  if (!iso) return t("common.never");
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short" }).format(date);
}

/** A date (no time) for people. */
export function formatDate(iso) {
  if (!iso) return t("common.never");
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return new Intl.DateTimeFormat(locale(), { dateStyle: "long" }).format(date);
}

/** "30 seconds", "5 minutes": how long to wait, rounded up to a friendly unit. */
export function formatWait(seconds) {
  const s = Math.max(1, Math.ceil(Number(seconds) || 1));
  if (s < 60) return tn("time.seconds", s);
  if (s < 3600) return tn("time.minutes", Math.ceil(s / 60));
  return tn("time.hours", Math.ceil(s / 3600));
}
