// Building the page from data without HTML text: every value goes in as a text node or an
// attribute, so nothing a context holds can run as markup (no innerHTML anywhere).

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// A link inside the console: followed without reloading the page.
export function link(href, ...children) {
  return h("a", { href, "data-link": true }, ...children);
}

export function table(columns, rows, label) {
  return h("div", { class: "scroll" },
    h("table", {},
      label ? h("caption", { class: "muted" }, label) : null,
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.narrow ? "hide-narrow" : null }, c.title)))),
      h("tbody", {}, rows.length === 0
        ? h("tr", {}, h("td", { colspan: columns.length, class: "muted" }, "Nothing here."))
        : rows.map((r) => h("tr", {}, columns.map((c) => h("td", { class: c.narrow ? "hide-narrow" : null }, c.cell(r))))))));
}

export function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

export function json(value) {
  return h("pre", { tabindex: 0 }, h("code", {}, JSON.stringify(value, null, 2)));
}

export function when(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return h("time", { datetime: iso, title: iso }, d.toLocaleString());
}
