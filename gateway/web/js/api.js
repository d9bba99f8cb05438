/**
 * Talking to the TeamMoa API: `api.get("users/me/")`, `api.post("users/login/", {login, password})`.
 *
 * - Paths are relative to /api/v1/ (a path starting with "/" is used as is); bodies go out and come back
 *   as JSON (pass a FormData as `{form}` for uploads); `{query}` adds a query string.
 * - Cookies ride along (same origin); unsafe methods send X-CSRF-Token with the teammoa_csrf cookie.
 * - A 401 "token_expired" (or a 401 while a session cookie is still around) refreshes the session once
 *   (POST users/refresh/, shared by concurrent callers) and retries the request.
 * - Every failure is thrown as an ApiError {status, code, message, details, fields, retryAfter};
 *   status 0 / code "network" when the server could not be reached. `describeError(err)` gives the
 *   sentence to show a person, in the UI's language.
 * Window events: "teammoa:refreshed" (detail: the user) after a refresh, "teammoa:expired" when the
 * session could not be refreshed.
 */

import { formatWait, has, t } from "./i18n.js";

export const CSRF_COOKIE = "teammoa_csrf";
const BASE = "/api/v1/";
const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const REFRESH_PATH = "users/refresh/";

export class ApiError extends Error {
  constructor({ status, code, message, details = [], retryAfter = null }) {
    super(message || code);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = Array.isArray(details) ? details : [];
    this.retryAfter = retryAfter;
  }

  /**
   * Field name → message, from the details that name a field ("body.email" → "email"). A detail whose
   * type the catalogue knows ("fieldErrors.<field>.<type>" or "fieldErrors.<type>") is said in the UI's
   * language; otherwise the server's message is shown.
   */
  get fields() {
    const out = {};
    for (const item of this.details) {
      if (item && typeof item.field === "string" && item.field !== "body") {
        const name = item.field.replace(/^body\./, "");
        if (name in out) continue;
        const specific = `fieldErrors.${name}.${item.type}`;
        const general = `fieldErrors.${item.type}`;
        out[name] = has(specific) ? t(specific) : has(general) ? t(general) : item.message || t("errors.invalid");
      }
    }
    return out;
  }
}

export function readCookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return "";
}

function urlOf(path, query) {
  const url = new URL(path.startsWith("/") ? path : BASE + path, location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, String(value));
  }
  return url.pathname + url.search;
}

async function bodyOf(response) {
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  if (type.includes("application/json")) {
    try {
      return await response.json();
    } catch {
      return null;
    }
  }
  return response.status < 400 ? await response.text() : null;
}

function errorOf(response, data) {
  const envelope = data && typeof data === "object" ? data.error : null;
  const header = Number(response.headers.get("retry-after"));
  const detailWait = envelope?.details?.find?.((d) => d && d.retry_after)?.retry_after;
  const retryAfter = Number.isFinite(header) && header > 0 ? header : detailWait ?? null;
  if (envelope && typeof envelope === "object") {
    return new ApiError({ status: response.status, code: envelope.code || `http_${response.status}`,
                          message: envelope.message, details: envelope.details, retryAfter });
  }
  return new ApiError({ status: response.status, code: `http_${response.status}`, message: "", retryAfter });
}

async function send(method, path, { json, form, query, signal } = {}) {
  const headers = { Accept: "application/json" };
  let body;
  if (form !== undefined) {
    body = form;  // the browser sets the multipart boundary
  } else if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  }
  if (UNSAFE.has(method)) {
    const csrf = readCookie(CSRF_COOKIE);
    if (csrf) headers["X-CSRF-Token"] = csrf;
  }
  try {
    return await fetch(urlOf(path, query), { method, headers, body, signal, credentials: "same-origin" });
  } catch (err) {
    if (err && err.name === "AbortError") throw err;
    throw new ApiError({ status: 0, code: "network", message: "" });
  }
}

let refreshing = null;

/** Renew the access token with the refresh cookie; true when it worked. One at a time. */
export function refreshSession() {
  if (!refreshing) {
    refreshing = (async () => {
      try {
        const response = await send("POST", REFRESH_PATH);
        const data = await bodyOf(response);
        if (response.ok) {
          window.dispatchEvent(new CustomEvent("teammoa:refreshed", { detail: data?.user ?? null }));
          return true;
        }
      } catch {
        // a network failure is reported by the request that needed the refresh
      }
      window.dispatchEvent(new CustomEvent("teammoa:expired"));
      return false;
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

function worthRefreshing(error) {
  return error.status === 401 && (error.code === "token_expired"
    || (error.code === "not_authenticated" && readCookie(CSRF_COOKIE) !== ""));
}

/** Send a request and return its JSON body (null for 204); throw ApiError on failure. */
export async function request(method, path, options = {}) {
  const response = await send(method, path, options);
  const data = await bodyOf(response);
  if (response.ok) return data;
  const error = errorOf(response, data);
  if (options.retry !== false && path !== REFRESH_PATH && worthRefreshing(error) && await refreshSession()) {
    return request(method, path, { ...options, retry: false });
  }
  throw error;
}

export const api = {
  get: (path, options = {}) => request("GET", path, options),
  post: (path, json, options = {}) => request("POST", path, { ...options, json }),
  put: (path, json, options = {}) => request("PUT", path, { ...options, json }),
  patch: (path, json, options = {}) => request("PATCH", path, { ...options, json }),
  delete: (path, json, options = {}) => request("DELETE", path, { ...options, json }),
  upload: (path, form, options = {}) => request("POST", path, { ...options, form }),
};

/** The sentence to show a person for a failure, in the UI's language. */
export function describeError(err) {
  if (!(err instanceof ApiError)) return t("errors.unexpected");
  const key = `errors.${err.code}`;
  if (has(key)) return t(key, { wait: formatWait(err.retryAfter ?? 60) });
  if (err.message && err.message !== err.code) return err.message;
  return err.status >= 500 ? t("errors.server") : t("errors.unexpected");
}

/** The user object of an auth response ({"user": {...}} or the user itself). */
export function userOf(data) {
  return data && typeof data === "object" && data.user ? data.user : data;
}
