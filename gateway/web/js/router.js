/**
 * The router: which page a path shows, and going to another path without reloading.
 *
 * Pages import navigate() and safeNext() from here (never from app.js, which owns the route table and
 * imports the pages). app.js calls startRouter() once with the table; see docs/frontend.md.
 */

import { describeError } from "./api.js";
import { el, loading, notice, pageTitle } from "./dom.js";
import { t } from "./i18n.js";
import { currentUser } from "./session.js";

const NOT_ROUTED = /^\/(api|health|ws|internal|metrics|\.well-known)(\/|$)/;

let compiled = [];
let notFound = null;
let beforeShow = () => {};
let cleanup = null;
let renderCount = 0;

function match(pathname) {
  const parts = pathname.split("/").filter(Boolean);
  for (const route of compiled) {
    if (route.parts.length !== parts.length) continue;
    const params = {};
    const ok = route.parts.every((part, i) => {
      if (part.startsWith(":")) {
        params[part.slice(1)] = decodeURIComponent(parts[i]);
        return true;
      }
      return part === parts[i];
    });
    if (ok) return { route, params };
  }
  return { route: { pattern: "*", load: notFound, options: {} }, params: {} };
}

function main() {
  return document.getElementById("main");
}

/** Whether the page at `pathname` is for signed-in users only. */
export function needsSignIn(pathname) {
  return Boolean(match(pathname).route.options.auth);
}

/** A local path taken from a `next` parameter, or the fallback (never another site). */
export function safeNext(value, fallback = "/teams") {
  return typeof value === "string" && value.startsWith("/") && !value.startsWith("//") ? value : fallback;
}

/** Go to a path of this site without reloading the page. */
export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  window.scrollTo(0, 0);
  return show({ focus: true });
}

/** Show the page of the current location (again). */
export async function show({ focus = false } = {}) {
  const count = ++renderCount;
  if (cleanup) {
    try {
      cleanup();
    } catch (err) {
      console.error(err);
    }
    cleanup = null;
  }
  beforeShow();
  const { route, params } = match(location.pathname);
  if (route.options.auth && !currentUser()) {
    return navigate(`/login?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
  }
  if (route.options.guest && currentUser()) return navigate("/teams", { replace: true });
  const outlet = main();
  outlet.dataset.state = "loading";
  outlet.dataset.route = route.pattern;
  const root = el("div", { class: "page" });
  outlet.replaceChildren(loading());
  pageTitle("");
  try {
    const module = await route.load();
    if (count !== renderCount) return;
    outlet.replaceChildren(root);
    const result = await module.render(root, { ...params, query: new URLSearchParams(location.search) });
    if (count !== renderCount) {
      if (typeof result === "function") result();
      return;
    }
    cleanup = typeof result === "function" ? result : null;
  } catch (err) {
    if (count !== renderCount) return;
    console.error(err);
    outlet.replaceChildren(el("div", { class: "page container narrow" },
      notice("error", el("p", {}, t("app.pageFailed")), el("p", {}, describeError(err))),
      el("button", { type: "button", class: "btn btn-secondary", onclick: () => show() }, t("common.retry"))));
  }
  outlet.dataset.state = "ready";
  if (focus) outlet.focus({ preventScroll: true });
}

function onLinkClick(event) {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey
      || event.altKey) return;
  const link = event.target.closest("a[href]");
  if (!link || (link.target && link.target !== "_self") || link.hasAttribute("download")) return;
  const url = new URL(link.href, location.href);
  if (url.origin !== location.origin || NOT_ROUTED.test(url.pathname)) return;
  if (/\.[a-z0-9]+$/i.test(url.pathname)) return;  // a file, not a page
  if (url.hash && url.pathname === location.pathname && url.search === location.search) return;
  event.preventDefault();
  navigate(url.pathname + url.search + url.hash);
}

/**
 * Take over same-site links and the back button. `routes`: [pattern, load, options] lines, the first
 * match wins; `notFound`: loads the page of an unmatched path; `onShow`: called before each page shows.
 */
export function startRouter({ routes, notFound: loadNotFound, onShow = () => {} }) {
  compiled = routes.map(([pattern, load, options = {}]) => ({
    pattern, load, options, parts: pattern.split("/").filter(Boolean),
  }));
  notFound = loadNotFound;
  beforeShow = onShow;
  document.addEventListener("click", onLinkClick);
  window.addEventListener("popstate", () => show({ focus: true }));
}
