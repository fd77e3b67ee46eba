// Pairing a strap: the `somatrace pair` command for a new device token, with a copy button and a QR code
// of the same command, shown once. Used by the patient's page and the therapist's.

import { h } from "./dom.js";
import { copyButton, qrSvg } from "./share.js";

/** The command a collector runs to pair with a new device token. */
export function pairCommand(token) {
  return `somatrace pair --server ${window.location.origin} --token ${token}`;
}

/** What to show right after a device token was made: the warning, the command, Copy, the QR code. */
export function pairingPanel(token, who = "your") {
  const command = pairCommand(token);
  return h("div", { class: "pair-result", id: "pair-result" },
    h("p", { class: "notice notice-warn", text: "This code is shown only once. Run this command on the computer next to the strap (or scan the QR code to take it there):" }),
    h("pre", { class: "command" }, h("code", { id: "pair-command", text: command })),
    h("p", {}, copyButton(command, "Copy the command", "pair-copy")),
    h("figure", { class: "qr-figure" }, qrSvg(command, `QR code of the pairing command for ${who} strap`),
      h("figcaption", { class: "muted small", text: "The same command as a QR code." })));
}
