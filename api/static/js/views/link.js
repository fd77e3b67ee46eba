// One-time links (public pages): accept a therapist's invitation (#/invite/<token>) or set a first or new
// password (#/password/<token>). The person chooses their password here; nobody else ever sees it. The
// token stays in the page (URL fragment) and travels to the API only in request bodies.

import { ApiError, logout, post, storeToken } from "../api.js";
import { formatDateTime } from "../dates.js";
import { announce, h, mount } from "../dom.js";
import { buildForm } from "../forms.js";
import { homeFor } from "../roles.js";

const TITLES = {
  invite: "Welcome to Somatrace",
  setup: "Set your password",
  reset: "Set a new password",
};

function intro(info) {
  const until = formatDateTime(info.expires_at, Intl.DateTimeFormat().resolvedOptions().timeZone);
  if (info.purpose === "invite") {
    return [
      h("p", { text: "Your therapist invited you to Somatrace, where your chest strap's readings, your journal and your sessions come together." }),
      h("p", {}, "You will sign in with ", h("strong", { id: "link-email", text: info.email }), ". Choose a password that only you know; your therapist never sees it."),
      h("p", { class: "muted small", text: `This invitation works once, until ${until}.` }),
    ];
  }
  return [
    h("p", {}, "Account: ", h("strong", { id: "link-email", text: info.email }), info.display_name ? ` (${info.display_name})` : ""),
    h("p", { class: "muted small", text: `This link works once, until ${until}. Setting the password signs out every other session of this account.` }),
  ];
}

export async function renderLink(main, { token }, _current, isCurrent) {
  let info;
  try {
    info = await post("/v1/links/check", { token });
  } catch (err) {
    if (!(err instanceof ApiError) || (err.status !== 410 && err.status !== 422)) throw err;
    if (!isCurrent()) return;
    mount(main, h("div", { class: "card narrow" },
      h("h1", { text: "This link cannot be used" }),
      h("p", { class: "notice notice-error", id: "link-error", role: "alert", text: err.message }),
      h("p", {}, h("a", { href: "#/login", text: "Go to the sign-in page" }))));
    return;
  }
  const form = await buildForm({
    form: "password",
    id: "link-form",
    submit: info.purpose === "invite" ? "Create my login" : "Set the password",
    personal: () => [info.email, info.display_name],
    fields: [
      { name: "password", autocomplete: "new-password" },
      { name: "password_confirm", autocomplete: "new-password" },
    ],
    extra: h("input", { type: "text", name: "username", autocomplete: "username", value: info.email, hidden: true, readonly: true }),
    onSubmit: async (data) => {
      logout();
      const signedIn = await post("/v1/links/redeem", { token, password: data.password, password_confirm: data.password_confirm });
      sessionStorage.removeItem("somatrace.me");
      const current = storeToken(signedIn.access_token);
      announce(info.purpose === "invite" ? "Your login is ready and you are signed in." : "Your password is set and you are signed in.", "ok");
      window.location.hash = homeFor(current);
    },
  });
  if (!isCurrent()) return;
  mount(main, h("div", { class: "card narrow link-page" },
    h("h1", { id: "link-title", text: TITLES[info.purpose] }),
    intro(info),
    form.el));
  form.control("password").focus();
}
