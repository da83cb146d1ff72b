// Calls to Whisper's REST API with the session cookie, and the errors it answers.

/** An error answer of the API: `message` is its `detail`, for people. */
export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.detail) || `The server answered ${status}.`);
    this.status = status;
    this.code = body && body.code;
    this.fields = (body && body.fields) || {};
  }

  /** Whether the error concerns input field `name` (by `fields` or by its code). */
  concerns(name) {
    return name in this.fields || (this.code || "").startsWith(name);
  }
}

let renewing = null;

/** New tokens from the session's refresh token (the access token lasts minutes). */
export function renew() {
  renewing ??= fetch("/api/v1/user/refresh/", { method: "POST", credentials: "same-origin" })
    .then((response) => response.ok)
    .catch(() => false)
    .finally(() => { renewing = null; });
  return renewing;
}

/** `method path` with a JSON `body`; a 401 renews the tokens once and retries. */
export async function request(method, path, body, { accept = "application/json", retry = true } = {}) {
  const init = { method, credentials: "same-origin", headers: { Accept: accept } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, { detail: "The server cannot be reached. Try again." });
  }
  if (response.status === 401 && retry && (await renew())) {
    return request(method, path, body, { accept, retry: false });
  }
  if (!response.ok) {
    let data = null;
    try { data = await response.json(); } catch { /* not the error shape */ }
    throw new ApiError(response.status, data);
  }
  return response;
}

/** The JSON answer of `method path`, or null when there is none (204). */
export async function json(method, path, body, options) {
  const response = await request(method, path, body, options);
  if (response.status === 204) return null;
  return response.json().catch(() => null);
}

/** An API URL (absolute, from the public URL) as a path on this origin. */
export function localPath(url) {
  const parsed = new URL(url, location.origin);
  return parsed.pathname + parsed.search;
}

/** Shows `error`'s text in `element` (a role="alert" element), or clears it. */
export function showError(element, error) {
  if (element) element.textContent = error ? error.message : "";
}

/** Sends the browser to log in, and back here after. */
export function toLogin() {
  location.assign("/login/?next=" + encodeURIComponent(location.pathname + location.search));
}
