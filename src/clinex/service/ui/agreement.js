// clinex adjudication view: the agreement of two reviewers (GET /agreement, an admin key) and
// their disagreements side by side, each shown at its place in the note.
//
// The page's choices live in its query string (?a=&b=&documents=), so a view can be linked.
// The API key, the API wrapper and sign-in are the review page's (common.js): sessionStorage
// "clinex.review.key" (this tab only), sent as "Authorization: Bearer KEY", never put in a URL.
//
// Offsets are code points (as the service counts), so the note is sliced as an array of code
// points. All note and fact text is written with textContent, never as HTML.

import { $, FLAGS, FLAG_BADGE, api, el, enc, hasSpan, setUpSignIn, showError, showStatus, typeClass } from "/ui/static/common.js";

/** A disagreement's "differs" names → the field rows they highlight. */
const FIELD_OF = { type: "type", start: "span", end: "span", text: "text", code: "code", assertion: "assertion", attributes: "attributes" };
/** How far the context reaches either side of the spans, at most (code points). */
const REACH = 140;

const els = {
  form: $("agreement-form"),
  a: $("input-a"),
  b: $("input-b"),
  documents: $("input-documents"),
  result: $("result"),
  reviewerA: $("reviewer-a"),
  reviewerB: $("reviewer-b"),
  overallDocuments: $("overall-documents"),
  kappaRows: $("kappa-rows"),
  documentRows: $("document-rows"),
  skipped: $("skipped"),
  count: $("disagreement-count"),
  none: $("no-disagreements"),
  list: $("disagreements"),
};

const state = {
  notes: new Map(), // document id → Promise of its text as code points (fetched once)
  seq: 0, // the latest load; an older answer arriving late is dropped
};

// ---------------------------------------------------------------- small helpers

/** A figure as the API rounded it (4 decimals), or a dash where it is undefined. */
function figure(value) {
  return typeof value === "number" ? String(value) : "–";
}

// ---------------------------------------------------------------- sign-in

const { show, signOut, signedIn } = setUpSignIn({
  views: ["agreement"],
  onSignedIn: start,
  signedOutKind: "ok",
});

els.form.addEventListener("submit", (event) => {
  event.preventDefault();
  const query = new URLSearchParams();
  for (const name of ["a", "b", "documents"]) {
    const value = els[name].value.trim();
    if (value) query.set(name, value);
  }
  const search = query.toString();
  history.replaceState(null, "", `${location.pathname}${search ? `?${search}` : ""}`);
  load();
});

function start() {
  if (!signedIn()) return;
  const query = new URLSearchParams(location.search);
  for (const name of ["a", "b", "documents"]) els[name].value = query.get(name) || "";
  show("agreement");
  load();
}

// ---------------------------------------------------------------- loading

async function load() {
  const seq = ++state.seq;
  const query = new URLSearchParams();
  for (const name of ["a", "b", "documents"]) {
    const value = els[name].value.trim();
    if (value) query.set(name, name === "documents" ? value.split(/\s*,\s*/).filter(Boolean).join(",") : value);
  }
  els.result.hidden = true;
  document.body.dataset.loaded = "false";
  showStatus("Comparing…");
  let data;
  try {
    ({ data } = await api(`/agreement${query.toString() ? `?${query}` : ""}`));
  } catch (exc) {
    if (seq !== state.seq) return;
    if (exc.status === 401) signOut("Your key was not accepted: sign in again.");
    else if (exc.status === 403) signOut("Agreement needs an admin key: sign in with one.");
    else showError(exc, "The agreement could not be computed");
    return;
  }
  if (seq !== state.seq) return;
  render(data);
  const n = data.disagreements.length;
  showStatus(`${data.overall.documents} document(s) compared, ${n} disagreement(s).`, "ok");
  document.body.dataset.loaded = "true";
}

function render(data) {
  const [a, b] = data.reviewers;
  els.reviewerA.textContent = a;
  els.reviewerB.textContent = b;
  // The API picked the reviewers the fields left empty: say whom.
  els.a.placeholder = a;
  els.b.placeholder = b;
  els.overallDocuments.textContent = String(data.overall.documents);
  renderOverall(data.overall);
  renderDocuments(data);
  renderDisagreements(data);
  els.result.hidden = false;
}

function renderOverall(overall) {
  $("overall-f1-exact").textContent = figure(overall.f1.exact);
  $("overall-f1-overlap").textContent = figure(overall.f1.overlap);
  for (const name of ["a", "b", "exact", "overlap"]) $(`overall-count-${name}`).textContent = String(overall.counts[name]);
  $("overall-count-compared").textContent = String(overall.counts.compared_facts);
  els.kappaRows.replaceChildren(
    ...FLAGS.map((flag) => {
      const k = overall.kappa[flag];
      return el(
        "tr",
        { dataset: { testid: "kappa-row", flag } },
        el("th", { text: flag }),
        el("td", {
          class: k.kappa === null ? "num undefined" : "num",
          dataset: { testid: "kappa-value" },
          text: k.kappa === null ? "undefined" : figure(k.kappa),
        }),
        el("td", { class: "num", dataset: { testid: "kappa-n" }, text: String(k.n) }),
        el("td", { class: "num", text: figure(k.observed) }),
        el("td", { class: "num", text: figure(k.expected) }),
        el("td", { class: "why", dataset: { testid: "kappa-why" }, text: k.undefined || "" }),
      );
    }),
  );
}

function kappaSummary(kappa) {
  const parts = FLAGS.filter((flag) => kappa[flag].kappa !== null).map(
    (flag) => `${flag} ${figure(kappa[flag].kappa)} (n ${kappa[flag].n})`,
  );
  return parts.length ? parts.join(", ") : "undefined for every flag";
}

function renderDocuments(data) {
  const ids = Object.keys(data.documents);
  els.documentRows.replaceChildren(
    ...ids.map((id) => {
      const d = data.documents[id];
      const title = FLAGS.map((f) => `${f}: ${d.kappa[f].kappa === null ? d.kappa[f].undefined : d.kappa[f].kappa}`).join("\n");
      return el(
        "tr",
        { dataset: { testid: "document-row", id } },
        el("td", {}, el("a", { href: `/ui#/documents/${enc(id)}`, text: id })),
        el("td", { class: "num", text: String(d.counts.a) }),
        el("td", { class: "num", text: String(d.counts.b) }),
        el("td", { class: "num", text: String(d.counts.exact) }),
        el("td", { class: "num", text: String(d.counts.overlap) }),
        el("td", { class: "num", dataset: { testid: "document-f1-exact" }, text: figure(d.f1.exact) }),
        el("td", { class: "num", dataset: { testid: "document-f1-overlap" }, text: figure(d.f1.overlap) }),
        el("td", { class: "why", title, text: kappaSummary(d.kappa) }),
        el("td", { class: "num", dataset: { testid: "document-disagreements" }, text: String(d.disagreements.length) }),
      );
    }),
  );
  const skipped = Object.entries(data.skipped || {});
  els.skipped.hidden = skipped.length === 0;
  els.skipped.textContent = skipped.length
    ? `Not compared: ${skipped.map(([id, why]) => `${id} (${why})`).join("; ")}.`
    : "";
}

// ---------------------------------------------------------------- disagreements

function renderDisagreements(data) {
  const rows = data.disagreements;
  els.count.textContent = `${rows.length}`;
  els.none.hidden = rows.length > 0;
  els.list.replaceChildren(...rows.map((row, i) => disagreementCard(row, i, data.reviewers)));
}

function disagreementCard(row, index, [nameA, nameB]) {
  const differs = new Set(row.differs);
  const fields = new Set([...differs].map((name) => FIELD_OF[name]).filter(Boolean));
  const factId = row.a_fact || row.b_fact;
  const context = el("div", { class: "context", dataset: { testid: "context" }, text: "loading the note…" });
  const card = el(
    "li",
    {
      class: "disagreement",
      id: `disagreement-${index}`,
      dataset: {
        testid: "disagreement",
        document: row.document,
        aFact: row.a_fact || "",
        bFact: row.b_fact || "",
        differs: row.differs.join(" "),
      },
    },
    el(
      "header",
      {},
      el("span", { class: "doc", dataset: { testid: "disagreement-document" }, text: row.document }),
      el("span", { class: "fid", title: "fact id", text: row.a_fact && row.b_fact && row.a_fact !== row.b_fact ? `${row.a_fact} / ${row.b_fact}` : factId }),
      el("span", { class: "differs-list", dataset: { testid: "disagreement-differs" }, text: `differs: ${row.differs.join(", ")}` }),
      el("a", { href: `/ui#/documents/${enc(row.document)}`, dataset: { testid: "review-link" }, text: "open in review" }),
    ),
    context,
    el(
      "div",
      { class: "sides" },
      side("a", nameA, row.a, row.a_action, row.b, fields, differs.has("presence")),
      side("b", nameB, row.b, row.b_action, row.a, fields, differs.has("presence")),
    ),
  );
  fillContext(context, row);
  return card;
}

/** One reviewer's side: the fact as their last decision left it, the differing fields marked. */
function side(which, name, fact, action, other, fields, presence) {
  const head = el("h3", {}, `${which.toUpperCase()}: ${name} `, el("small", { dataset: { testid: "action" }, text: action ? `last action: ${action}` : "did not decide this fact" }));
  if (!fact) {
    const why = action === "reject" ? "rejected this fact" : action ? `left no fact (${action})` : "has no such fact";
    return el(
      "section",
      { class: "side-fact absent", dataset: { testid: `side-${which}`, differs: presence ? "true" : "false" } },
      head,
      el("p", { dataset: { testid: "absent" }, text: `${name} ${why}.` }),
    );
  }
  const props = el("dl", { class: "props" });
  const add = (field, label, value) => {
    const differs = fields.has(field);
    const mark = differs ? "differs" : null;
    props.append(
      el("dt", { class: mark, text: label }),
      el("dd", { class: mark, dataset: { field, differs: differs ? "true" : "false" } }, value),
    );
  };
  add("type", "Type", el("span", { class: `chip ${typeClass(fact.type)}`, text: fact.type }));
  add("text", "Text", fact.text ?? "");
  add("span", "Span", hasSpan(fact, { empty: true }) ? `${fact.start}–${fact.end}` : "no span (ungrounded)");
  add("assertion", "Flags", flags(fact, other));
  add("code", "Code", fact.code ? codeText(fact.code) : "none");
  const attributes = Object.entries(fact.attributes || {});
  add("attributes", "Attributes", attributes.length ? attributes.map(([k, v]) => `${k}=${v}`).join(", ") : "none");
  if (typeof fact.confidence === "number") {
    props.append(el("dt", { text: "Confidence" }), el("dd", { dataset: { field: "confidence" }, text: fact.confidence.toFixed(2) }));
  }
  return el("section", { class: "side-fact", dataset: { testid: `side-${which}`, differs: presence ? "true" : "false" } }, head, props);
}

/** A code as "system code display", the system by its short name (its URI on hover). */
function codeText(code) {
  const system = String(code.system || "").replace(/\/+$/, "");
  const name = system.slice(system.lastIndexOf("/") + 1) || system;
  return el("span", { title: system }, `${name} `, el("strong", { text: code.code }), code.display ? ` ${code.display}` : "");
}

/** Every flag as a badge, set or not, the ones the other side has otherwise outlined. */
function flags(fact, other) {
  const mine = fact.assertion || {};
  const theirs = (other && other.assertion) || {};
  const wrap = el("span", { class: "flag-badges" });
  for (const flag of FLAGS) {
    const on = Boolean(mine[flag]);
    const differs = other ? on !== Boolean(theirs[flag]) : false;
    if (!on && !differs) continue;
    wrap.append(
      el("span", {
        class: `badge ${on ? `b-${flag}` : "off"}${differs ? " flag-differs" : ""}`,
        title: `${flag}: ${on ? "set" : "not set"}`,
        dataset: { flag, on: String(on), differs: String(differs) },
        text: on ? FLAG_BADGE[flag] : `no ${FLAG_BADGE[flag]}`,
      }),
      " ",
    );
  }
  if (!wrap.childNodes.length) wrap.textContent = "none";
  return wrap;
}

// ---------------------------------------------------------------- the note around the spans

function noteOf(id) {
  if (!state.notes.has(id)) {
    const text = api(`/documents/${enc(id)}`).then(({ data: doc }) => Array.from(doc.text || ""));
    text.catch(() => state.notes.delete(id)); // a failed fetch is tried again next time
    state.notes.set(id, text);
  }
  return state.notes.get(id);
}

async function fillContext(node, row) {
  const spans = [row.a, row.b].filter((f) => f && hasSpan(f, { empty: true })).map((f) => [f.start, f.end]);
  if (!spans.length) {
    node.textContent = "(no span in the note)";
    return;
  }
  let cps;
  try {
    cps = await noteOf(row.document);
  } catch (exc) {
    node.textContent = `the note could not be loaded: ${exc.message}`;
    return;
  }
  const lo = Math.min(...spans.map((s) => s[0]));
  const hi = Math.max(...spans.map((s) => s[1]));
  const { from, to, cutBefore, cutAfter } = sentence(cps, lo, hi);
  // Cut the window at every span edge; each piece knows whose spans cover it.
  const a = row.a && hasSpan(row.a, { empty: true }) ? [row.a.start, row.a.end] : null;
  const b = row.b && hasSpan(row.b, { empty: true }) ? [row.b.start, row.b.end] : null;
  const cuts = [...new Set([from, to, ...spans.flat()].filter((x) => x >= from && x <= to))].sort((x, y) => x - y);
  const pieces = [];
  if (cutBefore) pieces.push("…");
  for (let i = 0; i + 1 < cuts.length; i++) {
    const [s, e] = [cuts[i], cuts[i + 1]];
    const text = cps.slice(s, e).join("");
    const inA = a && a[0] <= s && e <= a[1];
    const inB = b && b[0] <= s && e <= b[1];
    if (inA || inB) {
      const who = [inA ? "A" : null, inB ? "B" : null].filter(Boolean).join(" and ");
      pieces.push(
        el("mark", {
          class: [inA ? "in-a" : null, inB ? "in-b" : null].filter(Boolean).join(" "),
          title: `${who}'s span`,
          dataset: { testid: "context-span", start: String(s), end: String(e) },
          text,
        }),
      );
    } else {
      pieces.push(text);
    }
  }
  if (cutAfter) pieces.push("…");
  node.replaceChildren(...pieces);
}

/** The sentence (or line) around [lo, hi): back to the last sentence end or line break before
 * it and on to the next, each at most REACH code points away; ``cutBefore``/``cutAfter`` say
 * where REACH, not the sentence, ended the window (shown as "…"). */
function sentence(cps, lo, hi) {
  const boundaryBefore = (i) => i === 0 || cps[i - 1] === "\n" || (/\s/.test(cps[i - 1]) && /[.!?;]/.test(cps[i - 2] || ""));
  let from = lo;
  while (!boundaryBefore(from) && lo - from < REACH) from--;
  const cutBefore = !boundaryBefore(from);
  let to = hi;
  let ended = to >= cps.length || cps[to] === "\n";
  while (!ended && to - hi < REACH) {
    const next = cps[to++];
    ended = to >= cps.length || cps[to] === "\n" || (/[.!?;]/.test(next) && /\s/.test(cps[to]));
  }
  // Leading blanks of a sentence are not part of it.
  while (from < lo && /\s/.test(cps[from])) from++;
  return { from, to, cutBefore, cutAfter: !ended };
}

start();
