// Patient page section: the straps paired with this account (with their last upload), pairing a new one
// with a copyable command and a QR code, and stopping a strap's uploads.

import { del, get, post } from "../api.js";
import { formatDateTime } from "../dates.js";
import { announce, confirmButton, h, mount } from "../dom.js";
import { buildForm } from "../forms.js";
import { pairingPanel } from "../pairing.js";

function strapName(d) {
  return [d.source === "browser" ? "records in the browser" : null, d.strap_name, d.strap_model].filter(Boolean).join(" · ");
}

/** The list of active straps; `onRevoke(device)` stops one (confirmed first). */
export function strapList(devices, tz, { idPrefix = "device", onRevoke, revokeLabel = "Stop using" } = {}) {
  const active = devices.filter((d) => !d.revoked_at);
  if (!active.length) return h("p", { class: "muted", id: `${idPrefix}-none`, text: "No strap paired yet." });
  return h("ul", { class: "device-list", id: `${idPrefix}-list` }, active.map((d) => h("li", { dataset: { deviceId: d.id } },
    h("p", {}, h("strong", { text: d.label || "strap" }), strapName(d) ? ` (${strapName(d)})` : ""),
    h("p", { class: "muted small", text: [
      d.last_seen_at ? `last upload ${formatDateTime(d.last_seen_at, tz)}` : "nothing uploaded yet",
      d.battery_pct === null || d.battery_pct === undefined ? null : `battery ${d.battery_pct} %`,
    ].filter(Boolean).join(" · ") }),
    onRevoke ? confirmButton(revokeLabel, "Its uploads will be refused from now on. Continue?", "Yes, stop it",
      () => onRevoke(d), { "aria-label": `${revokeLabel}: ${d.label || "strap"}` }) : null)));
}

export async function strapSection({ patient, refresh }) {
  const tz = patient.timezone || "UTC";
  const result = h("div", { "aria-live": "polite" });
  const [devices, form] = await Promise.all([
    get(`/v1/patients/${patient.id}/devices`),
    buildForm({
      form: "device",
      id: "pair-form",
      submit: "Create a pairing code",
      fields: [{ name: "label", value: "My strap", autocomplete: "off" }],
      onSubmit: async (data) => {
        const device = await post(`/v1/patients/${patient.id}/devices`, { label: data.label.trim() || null });
        mount(result, pairingPanel(device.token));
        announce("A pairing code was created; it is shown once.", "ok");
      },
    }),
  ]);
  return h("section", { class: "card strap", id: "pairing", "aria-labelledby": "pairing-title" },
    h("h2", { id: "pairing-title", text: "Your chest strap" }),
    strapList(devices || [], tz, {
      onRevoke: async (d) => {
        await del(`/v1/devices/${d.id}`);
        announce("The strap was removed; its uploads are refused from now on.", "ok");
        refresh();
      },
    }),
    h("h3", { text: "Pair a strap" }),
    h("ol", { class: "steps" },
      h("li", { text: "Install Somatrace on the computer you will record with." }),
      h("li", { text: "Create a pairing code here (it is shown once) and run the command it shows." }),
      h("li", {}, "Each morning, run ", h("code", { text: "somatrace record --morning" }), " for a 5-minute reading while sitting still.")),
    form.el, result);
}
