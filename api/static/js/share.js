// Handing something over once: a copy button, and a one-time link shown with its expiry and a QR code
// (vendored uqr) so it can go from this screen to a phone.

import { encode } from "/static/vendor/uqr/uqr.mjs";
import { formatDateTime } from "./dates.js";
import { announce, h } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";

/** An SVG QR code of `text` (one path of dark modules; a quiet zone of 4 modules). */
export function qrSvg(text, label) {
  const qr = encode(text, { ecc: "M", border: 4 });
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${qr.size} ${qr.size}`);
  svg.setAttribute("class", "qr");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  svg.setAttribute("shape-rendering", "crispEdges");
  const background = document.createElementNS(SVG, "rect");
  background.setAttribute("width", String(qr.size));
  background.setAttribute("height", String(qr.size));
  background.setAttribute("fill", "#ffffff");
  let d = "";
  qr.data.forEach((row, y) => row.forEach((dark, x) => { if (dark) d += `M${x} ${y}h1v1h-1z`; }));
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", d);
  path.setAttribute("fill", "#000000");
  svg.append(background, path);
  svg.dataset.modules = String(qr.size);
  return svg;
}

/** A button that copies `text` to the clipboard (or says how to copy it by hand). */
export function copyButton(text, label, id) {
  return h("button", { type: "button", class: "small", id, text: label, on: { click: async () => {
    try {
      await navigator.clipboard.writeText(text);
      announce("Copied.", "ok");
    } catch {
      announce("Copying is not allowed here: select the text and copy it by hand.", "warn");
    }
  } } });
}

/**
 * A one-time link just issued (LinkOut of the API): who to give it to, the link itself (on this
 * dashboard's address), Copy, its expiry and a QR code.
 */
export function linkPanel(link, { id, intro, tz }) {
  const url = `${window.location.origin}${link.path}`;
  return h("div", { class: "link-panel", id },
    h("p", { class: "notice notice-warn", text: `${intro} It is shown only now and works once, until ${formatDateTime(link.expires_at, tz)}.` }),
    h("pre", { class: "command" }, h("code", { class: "link-url", text: url })),
    h("p", {}, copyButton(url, "Copy the link", id ? `${id}-copy` : undefined)),
    h("figure", { class: "qr-figure" }, qrSvg(url, "QR code of the link"),
      h("figcaption", { class: "muted small", text: "The same link as a QR code, to open it on a phone." })));
}
