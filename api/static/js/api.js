// The API client: login, token kept in sessionStorage, JSON requests with the one error shape.

const TOKEN_KEY = "somatrace.token";

export class ApiError extends Error {
  constructor(status, code, message, fields) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields || {};
  }
}

function decodePayload(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "="));
    return JSON.parse(json);
  } catch {
    return null;
  }
}

/** The signed-in user from the stored token, or null when absent or expired. */
export function session() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) return null;
  const claims = decodePayload(token);
  if (!claims || (claims.exp && claims.exp * 1000 < Date.now())) {
    sessionStorage.removeItem(TOKEN_KEY);
    return null;
  }
  return {
    token,
    userId: claims.sub,
    role: claims.role,
    patientId: claims.patient_id || claims.pid || null,
    email: claims.email || null,
  };
}

export function logout() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** Keep an access token the API issued (login, or an invite or password link that signs the user in). */
export function storeToken(accessToken) {
  sessionStorage.setItem(TOKEN_KEY, accessToken);
  return session();
}

export async function login(username, password) {
  const body = new URLSearchParams({ username, password, grant_type: "password" });
  const response = await fetch("/v1/auth/token", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
    body,
  });
  const data = await readJson(response);
  if (!response.ok) throw toError(response, data);
  sessionStorage.setItem(TOKEN_KEY, data.access_token);
  return session();
}

async function readJson(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { error: { code: "bad_response", message: text.slice(0, 200) } };
  }
}

function toError(response, data) {
  const err = (data && data.error) || {};
  const message = err.message || (data && data.detail) || `${response.status} ${response.statusText}`;
  return new ApiError(response.status, err.code || "http_error", String(message), err.fields);
}

/** JSON request to the API with the bearer token; throws ApiError (401 clears the session). */
export async function request(method, path, { query, json } = {}) {
  const current = session();
  const url = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null) url.searchParams.set(key, value);
  }
  const headers = { Accept: "application/json" };
  if (current) headers.Authorization = `Bearer ${current.token}`;
  if (json !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method,
    headers,
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  const data = await readJson(response);
  if (!response.ok) {
    if (response.status === 401) logout();
    throw toError(response, data);
  }
  return data;
}

/** A multipart upload (`FormData`) by POST with the bearer token; throws ApiError like `request`. */
export async function upload(path, formData) {
  const current = session();
  const headers = { Accept: "application/json" };
  if (current) headers.Authorization = `Bearer ${current.token}`;
  const response = await fetch(new URL(path, window.location.origin), { method: "POST", headers, body: formData });
  const data = await readJson(response);
  if (!response.ok) {
    if (response.status === 401) logout();
    throw toError(response, data);
  }
  return data;
}

export const get = (path, query) => request("GET", path, { query });
export const post = (path, json) => request("POST", path, { json });
export const put = (path, json) => request("PUT", path, { json });
export const patch = (path, json) => request("PATCH", path, { json });
export const del = (path) => request("DELETE", path);

/**
 * Download a file from the API with the bearer token, reporting progress as bytes arrive:
 * onProgress({ received, total|null, headers }). Resolves to { blob, filename, headers } (not saved yet).
 */
export async function download(path, { query, accept, onProgress, signal } = {}) {
  const current = session();
  const url = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  const headers = { Accept: accept || "*/*" };
  if (current) headers.Authorization = `Bearer ${current.token}`;
  const response = await fetch(url, { headers, signal });
  if (!response.ok) {
    if (response.status === 401) logout();
    throw toError(response, await readJson(response));
  }
  const total = Number(response.headers.get("Content-Length")) || null;
  const chunks = [];
  let received = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.length;
    if (onProgress) onProgress({ received, total, headers: response.headers });
  }
  const disposition = response.headers.get("Content-Disposition") || "";
  const match = /filename="([^"]+)"/.exec(disposition);
  const type = response.headers.get("Content-Type") || "application/octet-stream";
  return { blob: new Blob(chunks, { type }), filename: match ? match[1] : "download", headers: response.headers, received };
}

/** Offer `blob` to the user as a file named `filename` (the browser's own download). */
export function saveBlob(blob, filename) {
  const href = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = href;
  link.download = filename;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(href), 60000);
}
