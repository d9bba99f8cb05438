/**
 * The account rules the auth service enforces, checked in the browser first so people get an answer
 * in their language before anything is sent. The server stays the authority.
 */

import { t } from "./i18n.js";

export const LIMITS = { usernameMin: 3, usernameMax: 30, nicknameMin: 2, nicknameMax: 20, passwordMin: 8,
                        passwordMax: 128, profileMax: 500 };
const USERNAME = /^[A-Za-z0-9._-]+$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function usernameProblem(value) {
  const v = (value || "").trim();
  if (!v) return t("rules.required");
  if (v.length < LIMITS.usernameMin || v.length > LIMITS.usernameMax) {
    return t("rules.usernameLength", { min: LIMITS.usernameMin, max: LIMITS.usernameMax });
  }
  return USERNAME.test(v) ? null : t("rules.usernameChars");
}

export function emailProblem(value) {
  const v = (value || "").trim();
  if (!v) return t("rules.required");
  return EMAIL.test(v) && v.length <= 254 ? null : t("rules.email");
}

export function nicknameProblem(value) {
  const v = (value || "").trim();
  if (!v) return t("rules.required");
  if (v.length < LIMITS.nicknameMin || v.length > LIMITS.nicknameMax) {
    return t("rules.nicknameLength", { min: LIMITS.nicknameMin, max: LIMITS.nicknameMax });
  }
  return null;
}

export function passwordProblem(value, username = "") {
  const v = value || "";
  if (!v) return t("rules.required");
  if (v.length < LIMITS.passwordMin) return t("rules.passwordShort", { min: LIMITS.passwordMin });
  if (v.length > LIMITS.passwordMax) return t("rules.passwordLong", { max: LIMITS.passwordMax });
  if (username && v.toLowerCase() === username.trim().toLowerCase()) return t("rules.passwordIsUsername");
  return null;
}

export function profileProblem(value) {
  return (value || "").length > LIMITS.profileMax ? t("rules.profileLong", { max: LIMITS.profileMax }) : null;
}

export function requiredProblem(value) {
  return (value || "").length ? null : t("rules.required");
}

/** {field: message} of the checks that found a problem. */
export function problems(checks) {
  return Object.fromEntries(Object.entries(checks).filter(([, message]) => message));
}
