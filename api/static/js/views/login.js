// Sign-in page: OAuth2 password form against POST /v1/auth/token.

import { ApiError, login } from "../api.js";
import { h, mount } from "../dom.js";

export async function renderLogin(main) {
  const error = h("p", { class: "notice notice-error", id: "login-error", role: "alert", hidden: true });
  const email = h("input", { id: "login-email", name: "username", type: "email", autocomplete: "username", required: true });
  const password = h("input", { id: "login-password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit", class: "primary", text: "Sign in" });
  const form = h("form", { class: "card login", id: "login-form" },
    h("h1", { text: "Sign in" }),
    h("label", { for: "login-email", text: "Email" }), email,
    h("label", { for: "login-password", text: "Password" }), password,
    submit, error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    try {
      const current = await login(email.value.trim(), password.value);
      const after = sessionStorage.getItem("somatrace.after_login");
      sessionStorage.removeItem("somatrace.after_login");
      window.location.hash = after || (current.role === "therapist" ? "#/patients" : current.role === "patient" ? "#/me" : "#/login");
      if (current.role !== "therapist" && current.role !== "patient") {
        error.textContent = `Signed in as ${current.role}: the dashboard is for therapists and patients. Use the API or the export commands.`;
        error.hidden = false;
      }
    } catch (err) {
      error.textContent = err instanceof ApiError && err.status === 401
        ? "Email or password is not correct."
        : err instanceof ApiError && err.status === 429
          ? "Too many attempts; please wait a minute and try again."
          : `Sign-in failed: ${err.message}`;
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });
  mount(main, form);
  email.focus();
}
