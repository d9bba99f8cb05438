/**
 * Who is signed in. `currentUser()` is the user object from the auth API ({id, username, nickname, …})
 * or null; `onSessionChange(fn)` hears sign-in, sign-out and profile changes (the nav bar re-renders).
 * The tokens themselves live in HttpOnly cookies the page never sees.
 */

import { api, CSRF_COOKIE, readCookie, userOf } from "./api.js";

let user = null;
const listeners = new Set();

export function currentUser() {
  return user;
}

export function setUser(next) {
  user = next ? { ...next } : null;
  listeners.forEach((fn) => fn(user));
}

export function onSessionChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Find out who is signed in (at start-up); a visitor without session cookies is not asked about. */
export async function loadSession() {
  if (!readCookie(CSRF_COOKIE)) {
    user = null;
    return user;
  }
  try {
    user = userOf(await api.get("users/me/"));
  } catch (err) {
    if (err.status !== 401 && err.status !== 403) throw err;
    user = null;
  }
  return user;
}

/** Sign out here and on the server (an already-ended session counts as signed out). */
export async function logOut() {
  try {
    await api.post("users/logout/", undefined, { retry: false });
  } catch (err) {
    if (err.status !== 401) throw err;
  }
  setUser(null);
}

window.addEventListener("teammoa:refreshed", (event) => {
  if (event.detail) setUser(event.detail);
});

window.addEventListener("teammoa:expired", () => {
  if (user) setUser(null);
});
