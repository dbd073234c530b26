// What the review page (review.js) and the adjudication page (agreement.js) share: the fact
// vocabulary (flags, badges, known types), the DOM builder `el`, the status line, the API
// wrapper with the key both pages keep in sessionStorage "clinex.review.key" (this tab only,
// sent as "Authorization: Bearer KEY", never put in a URL), and the login form and logout button,
// which have the same data-testid attributes on both pages.

export const KEY_STORAGE = "clinex.review.key";
export const FLAGS = ["negated", "uncertain", "historical", "hypothetical", "family"];
export const FLAG_BADGE = { negated: "NEG", uncertain: "UNC", historical: "HIST", hypothetical: "HYP", family: "FAM" };
/** The types the service accepts (clinex.core.types.ENTITY_TYPES); a note may show others. */
export const KNOWN_TYPES = ["condition", "medication", "lab", "procedure", "tumor"];

export const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
export const enc = encodeURIComponent;

// ---------------------------------------------------------------- API

/** The key in use: read once from sessionStorage, set by the login form. */
export const session = { key: sessionStorage.getItem(KEY_STORAGE) };

/** What an answer of 401 does besides failing (setUpSignIn's signOutOn401), or null. */
let onUnauthorized = null;

export class ApiError extends Error {
  constructor(status, body) {
    const error = body && body.error;
    super(error && error.message ? error.message : `the service answered HTTP ${status}`);
    this.status = status;
    this.code = error ? error.code : null;
    this.hint = error ? error.hint : null;
    this.body = body;
  }
}

/** A JSON request with the session's key: ``{data, response}``, or an ApiError. */
export async function api(path, { method = "GET", body, headers = {} } = {}) {
  const sent = { Authorization: `Bearer ${session.key}`, Accept: "application/json", ...headers };
  if (body !== undefined) sent["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: sent,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (exc) {
    throw new ApiError(0, { error: { message: `the service cannot be reached (${exc.message})` } });
  }
  const raw = await response.text();
  let data = null;
  if (raw) {
    try {
      data = JSON.parse(raw);
    } catch {
      data = { raw };
    }
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401 && onUnauthorized) onUnauthorized();
    throw error;
  }
  return { data, response };
}

// ---------------------------------------------------------------- small helpers

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

export function showStatus(message, kind = "info") {
  const status = $("status");
  status.textContent = message;
  status.dataset.kind = kind;
}

export function showError(exc, what) {
  const hint = exc.hint ? ` (${exc.hint})` : "";
  const nearest = exc.body && Array.isArray(exc.body.nearest) && exc.body.nearest.length
    ? ` Nearest codes: ${exc.body.nearest.map((c) => (c.display ? `${c.code} ${c.display}` : c.code)).join("; ")}.`
    : "";
  showStatus(`${what}: ${exc.message}${hint}${nearest}`, "error");
}

/** Whether a fact has integer offsets, and (unless ``empty``) a span of at least one code point. */
export function hasSpan(fact, { empty = false } = {}) {
  return Number.isInteger(fact.start) && Number.isInteger(fact.end) && (empty || fact.start < fact.end);
}

export function typeClass(type) {
  return KNOWN_TYPES.includes(type) ? `t-${type}` : "t-other";
}

// ---------------------------------------------------------------- sign-in

/**
 * Wires the login form and the logout button, and returns the page's view switch:
 * ``show(view)`` shows one of "login" and ``views`` (data-testids) and hides the others;
 * ``signOut(message, kind)`` forgets the key and shows the login form; ``signedIn()`` is true
 * with a key and shows the login form without one.
 *
 * onSignedIn: what follows a key the service accepted (it is stored first).
 * onSignOut: what to close before the login form is shown.
 * signedOutKind: the status kind of "Signed out." after the logout button.
 * signOutOn401: any API answer of 401 signs out (otherwise the page handles it).
 */
export function setUpSignIn({ views, onSignedIn, onSignOut = () => {}, signedOutKind = "info", signOutOn401 = false }) {
  function show(view) {
    for (const name of ["login", ...views]) $(name).hidden = name !== view;
    $("logout").hidden = view === "login";
  }

  function signOut(message, kind = "error") {
    session.key = null;
    sessionStorage.removeItem(KEY_STORAGE);
    onSignOut();
    show("login");
    if (message) showStatus(message, kind);
    $("login-key").focus();
  }

  function signedIn() {
    if (session.key) return true;
    show("login");
    $("login-key").focus();
    return false;
  }

  if (signOutOn401) onUnauthorized = () => signOut("Your key was not accepted: sign in again.");

  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("login-key");
    session.key = input.value.trim();
    try {
      await api("/documents?limit=1");
    } catch (exc) {
      if (exc.status !== 401) showError(exc, "Sign-in failed");
      else showStatus("That key was not accepted.", "error");
      return;
    }
    sessionStorage.setItem(KEY_STORAGE, session.key);
    input.value = "";
    onSignedIn();
  });

  $("logout").addEventListener("click", () => signOut("Signed out.", signedOutKind));

  return { show, signOut, signedIn };
}
