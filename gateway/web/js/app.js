/**
 * TeamMoa browser UI: start-up, the route table, the nav bar and the footer (the router: router.js).
 *
 * HOW TO ADD A PAGE — one module, one line in ROUTES, its strings:
 *   1. Write js/pages/<name>.js exporting `render(root, params)`:
 *        - root: an empty element to fill (build it with el() from dom.js; set the tab title with
 *          pageTitle(t("…")));
 *        - params: the path parameters (":teamId" → params.teamId, a string) and params.query
 *          (URLSearchParams of the query string);
 *        - render may be async; it may return a function, called when the user leaves the page
 *          (close sockets, stop timers).
 *   2. Add one line to ROUTES below:  ["/teams/:teamId/todos", () => import("./pages/todos.js"), { auth: true }],
 *        - ":name" matches one path segment; the first matching line wins;
 *        - { auth: true }  sends visitors who are not signed in to /login, and back here afterwards;
 *        - { guest: true } sends signed-in users to /teams (sign-up and log-in pages).
 *   3. Add every string the page shows to i18n/en.json AND i18n/ko.json, and show it with t("key").
 * Links: a plain <a href="/somewhere"> is handled by the router (not /api/…, files, or target=_blank);
 * from code, call navigate("/somewhere") from router.js (a page never imports app.js). See docs/frontend.md.
 */

import { describeError } from "./api.js";
import { el, icon, setBusy, toast } from "./dom.js";
import { initI18n, language, LANGUAGES, onLanguageChange, setLanguage, t } from "./i18n.js";
import { navigate, needsSignIn, show, startRouter } from "./router.js";
import { currentUser, loadSession, logOut, onSessionChange } from "./session.js";

const ROUTES = [
  ["/", () => import("./pages/landing.js")],
  ["/signup", () => import("./pages/signup.js"), { guest: true }],
  ["/signup/provider", () => import("./pages/signup-provider.js"), { guest: true }],
  ["/check-email", () => import("./pages/check-email.js")],
  ["/verify-email", () => import("./pages/verify-email.js")],
  ["/login", () => import("./pages/login.js"), { guest: true }],
  ["/forgot-password", () => import("./pages/forgot-password.js")],
  ["/reset-password", () => import("./pages/reset-password.js")],
  ["/profile", () => import("./pages/profile.js"), { auth: true }],
  ["/profile/password", () => import("./pages/change-password.js"), { auth: true }],
  ["/profile/deactivate", () => import("./pages/deactivate.js"), { auth: true }],
  ["/dev/outbox", () => import("./pages/outbox.js")],
  ["/api-reference", () => import("./pages/api-reference.js")],
  ["/teams", () => import("./pages/teams.js"), { auth: true }],
  ["/teams/new", () => import("./pages/team-create.js"), { auth: true }],
  ["/teams/join", () => import("./pages/team-join.js"), { auth: true }],
  ["/teams/:teamId", () => import("./pages/team.js"), { auth: true }],
  ["/teams/:teamId/todos", () => import("./pages/todos.js"), { auth: true }],
  ["/teams/:teamId/milestones", () => import("./pages/milestones.js"), { auth: true }],
  ["/teams/:teamId/board", () => import("./pages/board.js"), { auth: true }],
  ["/teams/:teamId/board/new", () => import("./pages/post-edit.js"), { auth: true }],
  ["/teams/:teamId/board/:postId", () => import("./pages/post.js"), { auth: true }],
  ["/teams/:teamId/board/:postId/edit", () => import("./pages/post-edit.js"), { auth: true }],
  ["/teams/:teamId/schedule", () => import("./pages/schedule.js"), { auth: true }],
  ["/teams/:teamId/mindmaps", () => import("./pages/mindmaps.js"), { auth: true }],
  ["/teams/:teamId/mindmaps/:mapId", () => import("./pages/mindmap.js"), { auth: true }],
];
const NOT_FOUND = () => import("./pages/not-found.js");

function main() {
  return document.getElementById("main");
}

function closeMenu() {
  document.querySelector(".site-header")?.classList.remove("menu-open");
  document.querySelector(".menu-toggle")?.setAttribute("aria-expanded", "false");
}

function markActive() {
  for (const link of document.querySelectorAll(".site-nav a[href]")) {
    const href = link.getAttribute("href");
    const active = location.pathname === href || (href !== "/" && location.pathname.startsWith(`${href}/`));
    if (active) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

async function onLogOut(event) {
  const button = event.currentTarget;
  setBusy(button, true, t("nav.loggingOut"));
  try {
    await logOut();
    toast(t("nav.loggedOut"), "success");
    navigate("/");
  } catch (err) {
    setBusy(button, false);
    toast(describeError(err), "error");
  }
}

function languageSwitch() {
  const select = el("select", { id: "language", class: "language-select", "aria-label": t("nav.language") },
    LANGUAGES.map((code) => el("option", { value: code, selected: code === language() }, t(`language.${code}`))));
  select.addEventListener("change", async () => {
    try {
      await setLanguage(select.value);
    } catch (err) {
      console.error(err);
      toast(t("errors.network"), "error");
    }
  });
  return el("label", { class: "language" }, icon("globe"), select);
}

function renderHeader() {
  const user = currentUser();
  const links = user
    ? [el("a", { href: "/teams", class: "nav-link" }, t("nav.teams")),
       el("a", { href: "/profile", class: "nav-link nav-user", title: t("nav.profile") }, icon("user"),
          el("span", {}, user.nickname || user.username)),
       el("button", { type: "button", class: "btn btn-ghost btn-sm", onclick: onLogOut }, t("nav.logout"))]
    : [el("a", { href: "/login", class: "nav-link" }, t("nav.login")),
       el("a", { href: "/signup", class: "btn btn-primary btn-sm" }, t("nav.signup"))];
  const toggle = el("button", { type: "button", class: "menu-toggle", "aria-expanded": "false",
                                "aria-controls": "site-nav" },
    icon("menu"), el("span", { class: "visually-hidden" }, t("nav.menu")));
  toggle.addEventListener("click", () => {
    const open = document.querySelector(".site-header").classList.toggle("menu-open");
    toggle.setAttribute("aria-expanded", String(open));
  });
  document.querySelector(".site-header").replaceChildren(el("div", { class: "container header-inner" },
    el("a", { href: user ? "/teams" : "/", class: "brand" }, el("span", { class: "brand-mark", "aria-hidden": "true" }),
       t("app.name")),
    toggle,
    el("nav", { id: "site-nav", class: "site-nav", "aria-label": t("nav.label") }, links, languageSwitch())));
  markActive();
}

function renderFooter() {
  document.querySelector(".site-footer").replaceChildren(el("div", { class: "container footer-inner" },
    el("span", {}, t("footer.tagline")),
    el("nav", { "aria-label": t("footer.label") },
      el("a", { href: "/api-reference" }, t("footer.api")))));
}

function applyStaticStrings() {
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
}

async function start() {
  try {
    await initI18n();
  } catch (err) {
    console.error(err);
    main().replaceChildren(el("p", { class: "container" }, "TeamMoa could not start. / TeamMoa를 시작하지 못했습니다."));
    return;
  }
  applyStaticStrings();
  try {
    await loadSession();
  } catch (err) {
    toast(describeError(err), "error");
  }
  renderHeader();
  renderFooter();
  onSessionChange(renderHeader);
  onLanguageChange(() => {
    applyStaticStrings();
    renderHeader();
    renderFooter();
    show();
  });
  window.addEventListener("teammoa:expired", () => {
    if (needsSignIn(location.pathname)) {
      toast(t("errors.session_ended"), "warning");
      navigate(`/login?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
    }
  });
  startRouter({ routes: ROUTES, notFound: NOT_FOUND, onShow: () => { closeMenu(); markActive(); } });
  await show();
}

start();
