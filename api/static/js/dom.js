// Safe DOM building: every text goes through textContent, never innerHTML (the API data is untrusted).

/**
 * Create an element. attrs: plain attributes, plus `class`, `dataset` (object), `on` (event map),
 * `hidden` (bool) and `text`. Children: strings, nodes, arrays, null/undefined/false (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "on") for (const [ev, fn] of Object.entries(value)) el.addEventListener(ev, fn);
    else if (key === "text") el.textContent = String(value);
    else if (key === "value") el.value = value;
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** Append children to `el`, skipping null/undefined/false (Element.append would write "null"). */
export function add(el, ...children) {
  append(el, children);
  return el;
}

/** Replace all children of `el`. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/**
 * A table: caption, header labels, rows of cells (the first cell is the row's header). A row may be
 * `{ attrs, cells }` to give the <tr> attributes. `attrs.stack`: on a phone the rows become cards, each
 * cell labelled with its column (data-label), so the page never scrolls sideways.
 */
export function dataTable(caption, headers, rows, attrs = {}) {
  const { stack, class: extra, ...rest } = attrs;
  return h("table", { class: ["data-table", stack ? "stack" : null, extra], ...rest },
    h("caption", { text: caption }),
    h("thead", {}, h("tr", {}, headers.map((label) => h("th", { scope: "col", text: label })))),
    h("tbody", {}, rows.map((row) => tableRow(headers, row, stack))));
}

/** One row of a dataTable (for tables that grow, e.g. a log with older pages). */
export function tableRow(headers, row, stack = false) {
  const cells = Array.isArray(row) ? row : row.cells;
  return h("tr", Array.isArray(row) ? {} : row.attrs || {}, cells.map((c, i) => (i === 0
    ? h("th", { scope: "row" }, c)
    : h("td", { "data-label": stack && headers[i] ? headers[i] : null }, c))));
}

/** Collapsible "show the numbers" wrapper used under every chart. */
export function details(summary, content, open = false) {
  return h("details", { class: "numbers", open }, h("summary", { text: summary }), content);
}

export function fmt(value, digits = 2, unit = "") {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  const text = Number(value).toFixed(digits);
  return unit ? `${text} ${unit}` : text;
}

export function signed(value, digits = 2) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  const text = Number(value).toFixed(digits);
  return value > 0 ? `+${text}` : text;
}

/** Show a message in the live status region (screen readers announce it). */
export function announce(message, kind = "info") {
  const status = document.getElementById("status");
  if (!status) return;
  mount(status, message ? h("p", { class: `notice notice-${kind}`, text: message }) : null);
}

/**
 * A button that asks before it acts: a click shows `question` with a confirm and a cancel button in place
 * (keyboard focus moves to the confirm button); `onConfirm` runs only after the second click.
 */
export function confirmButton(label, question, confirmLabel, onConfirm, attrs = {}) {
  const wrap = h("span", { class: "confirm" });
  const start = h("button", { type: "button", class: "small", ...attrs, text: label });
  const showStart = () => { mount(wrap, start); start.focus(); };
  start.addEventListener("click", () => {
    const yes = h("button", { type: "button", class: "small danger", text: confirmLabel,
      dataset: { confirm: "yes" } });
    const no = h("button", { type: "button", class: "small", text: "Cancel", on: { click: showStart } });
    yes.addEventListener("click", async () => {
      yes.disabled = true;
      no.disabled = true;
      try {
        await onConfirm();
      } catch (err) {
        mount(wrap, h("span", { class: "field-error", role: "alert", text: err.message }), " ", start);
      }
    });
    mount(wrap, h("span", { class: "confirm-question", text: question }), " ", yes, " ", no);
    yes.focus();
  });
  wrap.append(start);
  return wrap;
}
