// The banner while the server still prepares data in the background (the demo seeding its other
// patients): GET /v1/background every few seconds while it says "active", then a note to reload.
// Servers with nothing running in the background answer "inactive" once and the banner never shows.

import { h, mount } from "./dom.js";

const POLL_MS = 3000;
const RETRY_MS = 10000;

export function watchBackground() {
  const banner = h("div", { id: "background-banner", class: "notice notice-warn background-banner", hidden: true });
  document.querySelector(".topbar").after(banner);
  let shown = false;

  const show = (state) => {
    shown = true;
    banner.hidden = false;
    mount(banner,
      h("p", { class: "background-message", text: state.message }),
      state.total ? h("progress", { max: state.total, value: state.done, "aria-label": "Patients ready" }) : null);
  };

  const finish = () => {
    banner.className = "notice notice-ok background-banner";
    mount(banner,
      h("p", { role: "status", text: "All demo data is loaded. " },
        h("button", { type: "button", class: "link-button", id: "background-reload", text: "Reload to see everyone",
          on: { click: () => window.location.reload() } })));
  };

  async function poll() {
    let state;
    try {
      const response = await fetch("/v1/background", { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(String(response.status));
      state = await response.json();
    } catch {
      if (shown) setTimeout(poll, RETRY_MS); // server busy or restarting: keep the banner, ask later
      else banner.remove();
      return;
    }
    if (state.active) {
      show(state);
      setTimeout(poll, POLL_MS);
    } else if (shown) {
      finish();
    } else {
      banner.remove();
    }
  }
  poll();
}
