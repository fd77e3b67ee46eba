// Sign-in page: OAuth2 password form against POST /v1/auth/token; then the role's start page.

import { ApiError, login } from "../api.js";
import { h, mount } from "../dom.js";
import { homeFor } from "../roles.js";

export async function renderLogin(main) {
  const error = h("p", { class: "notice notice-error", id: "login-error", role: "alert", hidden: true });
  const email = h("input", { id: "login-email", name: "username", type: "email", autocomplete: "username", required: true });
  const password = h("input", { id: "login-password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit", class: "primary", text: "Sign in" });
  const form = h("form", { class: "card login", id: "login-form", novalidate: true, "aria-labelledby": "login-title" },
    h("h1", { id: "login-title", text: "Sign in" }),
    h("label", { for: "login-email", text: "Email" }), email,
    h("label", { for: "login-password", text: "Password" }), password,
    submit, error,
    h("p", { class: "muted small", text: "Forgot your password? Patients: ask your therapist for a link to set a new one. Staff: ask the clinic's administrator." }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    if (!email.value.trim() || !password.value) {
      error.textContent = "Enter your email and your password.";
      error.hidden = false;
      (email.value.trim() ? password : email).focus();
      return;
    }
    submit.disabled = true;
    try {
      const current = await login(email.value.trim(), password.value);
      const after = sessionStorage.getItem("somatrace.after_login");
      sessionStorage.removeItem("somatrace.after_login");
      window.location.hash = after || homeFor(current);
    } catch (err) {
      error.textContent = err instanceof ApiError && err.status === 401
        ? "Email or password is not correct."
        : err instanceof ApiError && err.status === 429
          ? "Too many attempts; please wait a minute and try again."
          : `Sign-in failed: ${err.message}`;
      error.hidden = false;
      password.focus();
    } finally {
      submit.disabled = false;
    }
  });
  mount(main, form);
  email.focus();
}
