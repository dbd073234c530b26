// clinex review UI: a static page over the service's JSON API (no build step, no framework).
//
// Views (by location.hash): "#/" the queue of documents, lowest confidence first;
// "#/documents/ID" one note with its facts. The API key, the API wrapper and sign-in are shared
// with the adjudication page (common.js): the key is kept in sessionStorage (this tab only) and
// sent as "Authorization: Bearer KEY"; it is never put in a URL, which ends up in logs.
//
// Offsets: the service counts characters as Python does (code points); JavaScript strings count
// UTF-16 units. The note is held as an array of code points and every offset shown or sent is a
// code-point offset, so a note with characters outside the BMP keeps its spans.
//
// All note and fact text is written with textContent, never as HTML.

import {
  $,
  FLAGS,
  FLAG_BADGE,
  KNOWN_TYPES,
  api,
  el,
  enc,
  hasSpan,
  setUpSignIn,
  showError,
  showStatus,
  typeClass,
} from "/ui/static/common.js";

/** Below this confidence a fact is marked with a dashed underline. */
const LOW_CONFIDENCE = 0.6;
const SYSTEM_FOR_TYPE = { condition: "icd10cm", tumor: "icd10cm", lab: "loinc", medication: "rxnorm" };
const PAST = { accept: "accepted", reject: "rejected", correct: "corrected", add: "added" };

const els = {
  status: $("status"),
  crumb: $("crumb"),
  queue: $("queue"),
  queueRows: $("queue-rows"),
  queueEmpty: $("queue-empty"),
  document: $("document"),
  note: $("note"),
  conflict: $("conflict"),
  detail: $("fact-detail"),
  factList: $("fact-list"),
  modal: $("edit-modal"),
  form: $("edit-form"),
  formTitle: $("edit-title"),
  type: $("edit-type"),
  start: $("edit-start"),
  end: $("edit-end"),
  text: $("edit-text"),
  flags: Object.fromEntries(FLAGS.map((f) => [f, $(`edit-${f}`)])),
  code: $("edit-code"),
  codeClear: $("edit-code-clear"),
  codeSystem: $("edit-code-system"),
  codeSearch: $("edit-code-search"),
  codeResults: $("edit-code-results"),
  attributes: $("edit-attributes"),
  comment: $("edit-comment"),
  formError: $("edit-error"),
  cancel: $("edit-cancel"),
};

const state = {
  doc: null, // {id, text, cps: code points, status, facts: [fact], review}
  order: [], // fact ids, lowest confidence first
  current: null, // the current fact's id
  form: null, // the open edit form: {mode: "correct"|"add", factId, start, end, code, systemPicked}
  drag: null, // "start" | "end" while a span handle is dragged
  lastDocument: null,
  search: { seq: 0, results: [], active: -1, timer: null },
};

// ---------------------------------------------------------------- small helpers

function slice(start, end) {
  return state.doc.cps.slice(start, end).join("");
}

function codePoints(text) {
  return Array.from(text).length;
}

function short(text, limit = 40) {
  const chars = Array.from(text || "");
  return chars.length > limit ? `${chars.slice(0, limit - 1).join("")}…` : chars.join("");
}

function formatConfidence(value) {
  return typeof value === "number" ? value.toFixed(2) : "–";
}

function formatTime(at) {
  const date = new Date(at);
  return Number.isNaN(date.getTime()) ? String(at) : date.toLocaleString();
}

function activeFlags(fact) {
  const assertion = fact.assertion || {};
  return FLAGS.filter((flag) => assertion[flag]);
}

function isTyping(target) {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target.tagName === "TEXTAREA") return true;
  return target.tagName === "INPUT" && !["checkbox", "radio", "number", "button", "submit"].includes(target.type);
}

// ---------------------------------------------------------------- sign-in and routing

const { show, signedIn } = setUpSignIn({
  views: ["queue", "document"],
  onSignedIn: () => {
    showStatus("Signed in.");
    route();
  },
  onSignOut: closeForm,
  signOutOn401: true,
});

function route() {
  if (!signedIn()) return;
  const match = location.hash.match(/^#\/documents\/(.+)$/);
  if (match) openDocument(decodeURIComponent(match[1]));
  else openQueue();
}

window.addEventListener("hashchange", route);

// ---------------------------------------------------------------- queue

async function openQueue() {
  closeForm();
  state.doc = null;
  els.crumb.textContent = "";
  let data;
  try {
    ({ data } = await api("/documents?limit=200"));
  } catch (exc) {
    if (exc.status !== 401) showError(exc, "The queue could not be loaded");
    return;
  }
  show("queue");
  const documents = data.documents || [];
  els.queueRows.replaceChildren(
    ...documents.map((d) =>
      el(
        "tr",
        {
          tabindex: "0",
          class: d.required_open > 0 ? "needs-review" : null,
          dataset: { testid: "queue-row", id: d.id },
          onclick: () => goToDocument(d.id),
        },
        el("td", { class: "doc-id", text: d.id }),
        el("td", { text: d.status }),
        el("td", { text: String(d.facts ?? "") }),
        el("td", { text: String(d.pending ?? "") }),
        el("td", { text: String(d.required_open ?? "") }),
        el("td", {
          class: typeof d.min_confidence === "number" && d.min_confidence < LOW_CONFIDENCE ? "low" : null,
          text: formatConfidence(d.min_confidence),
        }),
        el("td", { text: (d.reviewers || []).join(", ") }),
      ),
    ),
  );
  els.queueEmpty.hidden = documents.length > 0;
  const rows = [...els.queueRows.children];
  const again = rows.find((row) => row.dataset.id === state.lastDocument);
  (again || rows[0])?.focus();
  showStatus(`${documents.length} document(s) in the queue.`);
}

function goToDocument(id) {
  location.hash = `#/documents/${enc(id)}`;
}

els.queueRows.addEventListener("keydown", (event) => {
  const row = event.target.closest("tr");
  if (!row) return;
  if (event.key === "Enter") {
    event.preventDefault();
    goToDocument(row.dataset.id);
  } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    const next = event.key === "ArrowDown" ? row.nextElementSibling : row.previousElementSibling;
    next?.focus();
  }
});

// ---------------------------------------------------------------- document

async function openDocument(id) {
  closeForm();
  let data;
  try {
    ({ data } = await api(`/documents/${enc(id)}`));
  } catch (exc) {
    if (exc.status !== 401) showError(exc, `Document ${id} could not be loaded`);
    return;
  }
  state.doc = { ...data, cps: Array.from(data.text || "") };
  state.lastDocument = data.id;
  els.crumb.textContent = `› ${data.id}`;
  hideConflict();
  sortFacts();
  state.current = state.order[0] ?? null;
  show("document");
  render();
  scrollToCurrent();
  const open = data.review ? data.review.required_open : undefined;
  showStatus(`${data.facts.length} fact(s)` + (open !== undefined ? `, ${open} required review(s) open.` : "."));
}

function sortFacts() {
  const facts = [...state.doc.facts];
  // Lowest confidence first (what most needs a person); facts without one (added by a
  // reviewer) last; ties in note order so neighbours stay together.
  facts.sort((a, b) => {
    const ca = typeof a.confidence === "number" ? a.confidence : Infinity;
    const cb = typeof b.confidence === "number" ? b.confidence : Infinity;
    if (ca !== cb) return ca - cb;
    return (a.start ?? Infinity) - (b.start ?? Infinity);
  });
  state.order = facts.map((f) => f.id);
}

function factById(id) {
  return state.doc ? state.doc.facts.find((f) => f.id === id) : undefined;
}

function currentFact() {
  return state.current ? factById(state.current) : undefined;
}

function replaceFact(fact, decision) {
  const facts = state.doc.facts;
  const index = facts.findIndex((f) => f.id === fact.id);
  const before = index >= 0 ? facts[index] : null;
  // A service that answers without the history keeps the one we knew plus this decision.
  if (!Array.isArray(fact.decisions)) {
    const history = before && Array.isArray(before.decisions) ? [...before.decisions] : [];
    if (decision) history.push(decision);
    fact = { ...fact, decisions: history };
  }
  if (index >= 0) facts[index] = fact;
  else facts.push(fact);
  return fact;
}

function render() {
  renderNote();
  renderList();
  renderDetail();
}

function renderNote() {
  const { cps, facts } = state.doc;
  const size = cps.length;
  const spans = facts.filter((f) => hasSpan(f) && f.end <= size);
  const preview = state.form && validSpan(state.form.start, state.form.end) ? state.form : null;
  const cuts = new Set([0, size]);
  for (const fact of spans) {
    cuts.add(fact.start);
    cuts.add(fact.end);
  }
  if (preview) {
    cuts.add(preview.start);
    cuts.add(preview.end);
  }
  const points = [...cuts].sort((a, b) => a - b);
  const nodes = [];
  // Segments: the note cut at every fact edge; each piece knows the facts that cover it, so
  // overlapping and nested facts need no nesting of elements and offsets stay exact.
  for (let i = 0; i + 1 < points.length; i++) {
    const a = points[i];
    const b = points[i + 1];
    if (preview && a === preview.start) nodes.push(handle("start"));
    const covering = spans.filter((f) => f.start <= a && f.end >= b);
    const piece = covering.length ? markFor(covering, a, b) : el("span");
    piece.dataset.start = String(a);
    piece.dataset.end = String(b);
    piece.textContent = cps.slice(a, b).join("");
    if (preview && preview.start <= a && preview.end >= b) piece.classList.add("preview");
    nodes.push(piece);
    if (preview && b === preview.end) nodes.push(handle("end"));
  }
  els.note.replaceChildren(...nodes);
  els.note.classList.toggle("dragging", state.drag !== null);
}

function markFor(covering, a, b) {
  // The innermost (shortest) fact names the piece: it is the one a click most likely means.
  const inner = covering.reduce((x, y) => (y.end - y.start < x.end - x.start ? y : x));
  const mark = el("mark", {
    class: `fact ${typeClass(inner.type)} s-${inner.review_status}`,
    dataset: {
      testid: "fact-mark",
      factId: inner.id,
      factIds: covering.map((f) => f.id).join(" "),
      type: inner.type,
      status: inner.review_status,
    },
    title: covering.map(describe).join("\n"),
  });
  if (covering.length > 1) {
    mark.classList.add("overlap");
    mark.dataset.depth = String(Math.min(covering.length, 3));
  }
  if (covering.some((f) => typeof f.confidence === "number" && f.confidence < LOW_CONFIDENCE)) {
    mark.classList.add("low");
  }
  if (covering.some((f) => f.id === state.current)) mark.classList.add("current");
  if (covering.some((f) => f.start === a)) mark.classList.add("first");
  const ending = covering.filter((f) => f.end === b);
  const badges = ending.flatMap((f) => activeFlags(f).map((flag) => FLAG_BADGE[flag]));
  if (badges.length) mark.dataset.badges = [...new Set(badges)].join(" ");
  return mark;
}

function describe(fact) {
  const parts = [fact.type, `confidence ${formatConfidence(fact.confidence)}`, fact.review_status.replace("_", " ")];
  const flags = activeFlags(fact);
  if (flags.length) parts.push(flags.join(", "));
  if (fact.code) parts.push(`${fact.code.code}${fact.code.display ? ` ${fact.code.display}` : ""}`);
  return parts.join(" · ");
}

function handle(which) {
  return el("span", {
    class: `handle handle-${which}`,
    contenteditable: "false",
    title: which === "start" ? "drag to move the start" : "drag to move the end",
    dataset: { testid: `handle-${which}`, handle: which },
  });
}

function badgeList(fact) {
  return activeFlags(fact).map((flag) =>
    el("span", { class: `badge b-${flag}`, dataset: { testid: "badge", flag }, text: flag }),
  );
}

function renderList() {
  const items = state.order.map((id) => {
    const fact = factById(id);
    const last = (fact.decisions || []).at(-1);
    const low = typeof fact.confidence === "number" && fact.confidence < LOW_CONFIDENCE;
    return el(
      "li",
      {
        class: `fact-item s-${fact.review_status}${id === state.current ? " current" : ""}`,
        "aria-selected": id === state.current ? "true" : "false",
        dataset: { testid: "fact-item", factId: id, status: fact.review_status, type: fact.type },
        onclick: () => select(id),
      },
      el("span", { class: `chip ${typeClass(fact.type)}`, text: fact.type }),
      el("span", { class: "item-text", text: hasSpan(fact) ? short(fact.text) : `${short(fact.text)} (no span)` }),
      el("span", { class: `conf${low ? " low" : ""}`, title: `confidence ${fact.confidence ?? "none"}`, text: formatConfidence(fact.confidence) }),
      el("span", { class: "item-status", dataset: { testid: "fact-status" }, text: fact.review_status.replace("_", " ") }),
      fact.review_required && fact.review_status === "pending" ? el("span", { class: "required", title: fact.review_reason || "review required", text: "required" }) : null,
      ...badgeList(fact),
      last ? el("span", { class: "last", text: `${PAST[last.action] || last.action} by ${last.reviewer}` }) : null,
    );
  });
  els.factList.replaceChildren(...items);
}

function renderDetail() {
  const fact = currentFact();
  if (!fact) {
    els.detail.replaceChildren(el("p", { class: "empty", text: "No facts in this document: select text and press 4 to add one." }));
    return;
  }
  const rows = [
    ["Type", el("span", { class: `chip ${typeClass(fact.type)}`, text: fact.type })],
    ["Text", el("q", { dataset: { testid: "detail-text" }, text: fact.text })],
    ["Span", hasSpan(fact) ? `${fact.start}–${fact.end}` : "not grounded in the note"],
    ["Confidence", el("span", { class: typeof fact.confidence === "number" && fact.confidence < LOW_CONFIDENCE ? "low" : "", text: formatConfidence(fact.confidence) })],
    ["Status", el("span", { dataset: { testid: "detail-status" }, text: `${fact.review_status.replace("_", " ")} (version ${fact.version})` })],
  ];
  if (fact.review_required) rows.push(["Required", fact.review_reason || "yes"]);
  const flags = badgeList(fact);
  if (flags.length) rows.push(["Assertion", el("span", {}, ...flags)]);
  if (fact.code) {
    rows.push(["Code", `${fact.code.code}${fact.code.display ? ` — ${fact.code.display}` : ""} (${fact.code.system})`]);
  }
  const attributes = Object.entries(fact.attributes || {});
  if (attributes.length) rows.push(["Attributes", attributes.map(([k, v]) => `${k}=${v}`).join(", ")]);
  if (fact.origin && fact.origin !== "extracted") rows.push(["Origin", fact.origin]);
  const history = fact.decisions || [];
  els.detail.replaceChildren(
    el("h2", {}, "Current fact ", el("small", { text: `${state.order.indexOf(fact.id) + 1} of ${state.order.length}` })),
    el("dl", { class: "props" }, ...rows.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", {}, v)])),
    el(
      "div",
      { class: "actions" },
      el("button", { type: "button", dataset: { testid: "action-accept" }, onclick: () => decide("accept") }, "Accept ", el("kbd", { text: "1" })),
      el("button", { type: "button", dataset: { testid: "action-reject" }, onclick: () => decide("reject") }, "Reject ", el("kbd", { text: "2" })),
      el("button", { type: "button", dataset: { testid: "action-edit" }, onclick: () => openForm("correct") }, "Edit ", el("kbd", { text: "3" })),
      el("button", { type: "button", dataset: { testid: "action-add" }, onclick: addFromSelection }, "Add ", el("kbd", { text: "4" })),
    ),
    el("h3", { text: "Decided before" }),
    history.length
      ? el(
          "ol",
          { class: "history", dataset: { testid: "fact-history" } },
          ...history.map((d) =>
            el(
              "li",
              { dataset: { testid: "history-entry", reviewer: d.reviewer, action: d.action } },
              el("strong", { text: d.reviewer }),
              ` ${PAST[d.action] || d.action} `,
              el("time", { datetime: d.at, title: d.at, text: formatTime(d.at) }),
              d.comment ? el("span", { class: "comment", text: ` “${d.comment}”` }) : null,
            ),
          ),
        )
      : el("p", { class: "empty", dataset: { testid: "fact-history-empty" }, text: "No one has decided on this fact yet." }),
  );
}

function select(id, { scroll = true } = {}) {
  if (!factById(id)) return;
  state.current = id;
  render();
  if (scroll) scrollToCurrent();
}

function step(delta) {
  if (!state.order.length) return;
  const at = state.order.indexOf(state.current);
  const next = Math.max(0, Math.min(state.order.length - 1, (at < 0 ? 0 : at + delta)));
  select(state.order[next]);
}

function scrollToCurrent() {
  if (!state.current) return;
  const id = CSS.escape(state.current);
  els.factList.querySelector(`[data-fact-id="${id}"]`)?.scrollIntoView({ block: "nearest" });
  els.note.querySelector(`mark.current`)?.scrollIntoView({ block: "center" });
}

els.note.addEventListener("click", (event) => {
  const mark = event.target.closest("mark.fact");
  const selection = window.getSelection();
  if (mark && (!selection || selection.isCollapsed)) select(mark.dataset.factId, { scroll: false });
});

// ---------------------------------------------------------------- decisions

function showConflict(current, theirs) {
  const last = (current.decisions || []).at(-1);
  const who = last ? `${last.reviewer} ${PAST[last.action] || last.action} it at ${formatTime(last.at)}` : "it was changed";
  els.conflict.replaceChildren(
    el("strong", { text: "Changed by someone else. " }),
    `Your ${theirs} of “${short(current.text)}” was not saved: ${who}. `,
    `It is now ${current.review_status.replace("_", " ")} (version ${current.version}); review it and decide again.`,
  );
  els.conflict.dataset.factId = current.id;
  els.conflict.hidden = false;
}

function hideConflict() {
  els.conflict.hidden = true;
  els.conflict.replaceChildren();
}

/** A stale decision: take the service's current fact and tell the reviewer. */
async function onConflict(exc, what) {
  const body = exc.body || {};
  let current = body.current || (body.error && body.error.current);
  if (!current) return false;
  // The 409 carries the fact as it stands; its history (who changed it) comes with GET /facts.
  try {
    ({ data: current } = await api(`/facts/${enc(current.id)}`));
  } catch {
    // keep the 409's copy
  }
  const fact = replaceFact(current);
  sortFacts();
  state.current = fact.id;
  render();
  scrollToCurrent();
  showConflict(fact, what);
  showStatus("Changed by someone else: the fact was reloaded, nothing of yours was saved.", "error");
  return true;
}

async function decide(action, changes = {}, comment = null) {
  const fact = currentFact();
  if (!fact) return false;
  hideConflict();
  const body = { action, changes };
  if (comment) body.comment = comment;
  try {
    const { data } = await api(`/facts/${enc(fact.id)}/decisions`, {
      method: "POST",
      headers: { "If-Match": `"${fact.version}"` },
      body,
    });
    const updated = replaceFact(data.fact, data.decision);
    showStatus(`${PAST[action]} ${updated.type} “${short(updated.text)}” (version ${updated.version}).`, "ok");
    render();
    if (action !== "correct") step(1);
    else scrollToCurrent();
    return true;
  } catch (exc) {
    if (exc.status === 409 && (await onConflict(exc, action))) return true;
    if (exc.status !== 401) showError(exc, `Could not ${action} the fact`);
    return false;
  }
}

async function addFact(fields, comment) {
  const body = { ...fields };
  if (comment) body.comment = comment;
  try {
    const { data } = await api(`/documents/${enc(state.doc.id)}/facts`, { method: "POST", body });
    const fact = replaceFact(data.fact, data.decision);
    sortFacts();
    state.current = fact.id;
    render();
    scrollToCurrent();
    showStatus(`added ${fact.type} “${short(fact.text)}”.`, "ok");
    return true;
  } catch (exc) {
    if (exc.status !== 401) showError(exc, "Could not add the fact");
    return false;
  }
}

// ---------------------------------------------------------------- selection → note offsets

/** The code-point offset in the note of a DOM boundary point, or null outside the note. */
function noteOffset(node, offset) {
  const note = els.note;
  const size = state.doc.cps.length;
  if (!note.contains(node)) return null;
  if (node.nodeType === Node.TEXT_NODE) {
    const piece = node.parentElement.closest("[data-start]");
    if (!piece) return null;
    return Number(piece.dataset.start) + codePoints(node.data.slice(0, offset));
  }
  if (node instanceof HTMLElement && node.dataset.start !== undefined) {
    return offset === 0 ? Number(node.dataset.start) : Number(node.dataset.end);
  }
  if (node !== note) {
    // A piece without text of its own (a drag handle): where its neighbours meet.
    for (let next = node.nextSibling; next; next = next.nextSibling) {
      if (next instanceof HTMLElement && next.dataset.start !== undefined) return Number(next.dataset.start);
    }
    for (let back = node.previousSibling; back; back = back.previousSibling) {
      if (back instanceof HTMLElement && back.dataset.end !== undefined) return Number(back.dataset.end);
    }
    return size;
  }
  // The note itself: offset counts its children; handles have no text.
  const children = node.childNodes;
  for (let i = offset; i < children.length; i++) {
    const child = children[i];
    if (child instanceof HTMLElement && child.dataset.start !== undefined) return Number(child.dataset.start);
  }
  return size;
}

function selectionSpan() {
  const selection = window.getSelection();
  if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
  const range = selection.getRangeAt(0);
  let start = noteOffset(range.startContainer, range.startOffset);
  let end = noteOffset(range.endContainer, range.endOffset);
  if (start === null || end === null) return null;
  if (start > end) [start, end] = [end, start];
  const cps = state.doc.cps;
  // A selection made with the mouse often takes a space at either edge; a fact never does.
  while (start < end && /\s/u.test(cps[start])) start++;
  while (end > start && /\s/u.test(cps[end - 1])) end--;
  return start < end ? { start, end } : null;
}

function addFromSelection() {
  const span = selectionSpan();
  if (!span) {
    showStatus("Select the words of the new fact in the note first, then press 4.", "error");
    return;
  }
  openForm("add", span);
}

// ---------------------------------------------------------------- the edit form

function validSpan(start, end) {
  return Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start < end && end <= state.doc.cps.length;
}

function typeOptions(selected) {
  const seen = new Set(KNOWN_TYPES);
  for (const fact of state.doc.facts) seen.add(fact.type);
  if (selected) seen.add(selected);
  return [...seen].map((type) => el("option", { value: type, selected: type === selected, text: type }));
}

function openForm(mode, span) {
  const fact = currentFact();
  if (mode === "correct" && !fact) return;
  hideConflict();
  const base = mode === "correct" ? fact : null;
  const type = base ? base.type : (fact && fact.type) || "condition";
  state.form = {
    mode,
    factId: base ? base.id : null,
    start: span ? span.start : base && hasSpan(base) ? base.start : 0,
    end: span ? span.end : base && hasSpan(base) ? base.end : 0,
    code: base && base.code ? { ...base.code } : null,
    systemPicked: false,
  };
  els.formTitle.textContent = mode === "correct" ? `Correct ${base.type} “${short(base.text)}”` : "Add a fact";
  els.form.dataset.mode = mode;
  els.type.replaceChildren(...typeOptions(type));
  for (const flag of FLAGS) els.flags[flag].checked = Boolean(base && base.assertion && base.assertion[flag]);
  els.attributes.value = base ? Object.entries(base.attributes || {}).map(([k, v]) => `${k}=${v}`).join("\n") : "";
  els.comment.value = "";
  els.codeSearch.value = "";
  els.codeSystem.value = SYSTEM_FOR_TYPE[type] || "icd10cm";
  closeResults();
  els.formError.hidden = true;
  els.modal.hidden = false;
  syncForm();
  els.form.focus();
}

function closeForm() {
  if (!state.form) return;
  state.form = null;
  state.drag = null;
  els.modal.hidden = true;
  closeResults();
  if (state.doc) renderNote();
}

function syncForm() {
  const form = state.form;
  els.start.value = String(form.start);
  els.end.value = String(form.end);
  els.start.max = els.end.max = String(state.doc.cps.length);
  els.text.textContent = validSpan(form.start, form.end) ? slice(form.start, form.end) : "";
  els.text.dataset.valid = validSpan(form.start, form.end) ? "true" : "false";
  els.code.textContent = form.code
    ? `${form.code.code}${form.code.display ? ` — ${form.code.display}` : ""}`
    : "no code";
  els.code.title = form.code ? form.code.system : "";
  els.codeClear.hidden = !form.code;
  renderNote();
}

function moveEdge(edge, delta) {
  const form = state.form;
  const size = state.doc.cps.length;
  if (edge === "start") form.start = Math.max(0, Math.min(form.end - 1, form.start + delta));
  else form.end = Math.min(size, Math.max(form.start + 1, form.end + delta));
  syncForm();
}

function readAttributes() {
  const attributes = {};
  const lines = els.attributes.value.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const at = line.indexOf("=");
    if (at <= 0) throw new Error(`attributes line ${i + 1}: write key=value`);
    attributes[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return attributes;
}

function sameAttributes(a, b) {
  const norm = (x) => JSON.stringify(Object.entries(x || {}).map(([k, v]) => [k, String(v)]).sort());
  return norm(a) === norm(b);
}

function formFields() {
  const form = state.form;
  if (!validSpan(form.start, form.end)) {
    throw new Error(`the span ${form.start}–${form.end} is not inside the note (0–${state.doc.cps.length}) or is empty`);
  }
  const assertion = Object.fromEntries(FLAGS.map((flag) => [flag, els.flags[flag].checked]));
  return {
    type: els.type.value,
    start: form.start,
    end: form.end,
    text: slice(form.start, form.end),
    assertion,
    code: form.code,
    attributes: readAttributes(),
  };
}

function corrections(fact, fields) {
  const changes = {};
  if (fields.type !== fact.type) changes.type = fields.type;
  if (fields.start !== fact.start || fields.end !== fact.end) {
    Object.assign(changes, { start: fields.start, end: fields.end, text: fields.text });
  }
  if (FLAGS.some((flag) => Boolean((fact.assertion || {})[flag]) !== fields.assertion[flag])) {
    changes.assertion = fields.assertion;
  }
  const before = fact.code ? `${fact.code.system}|${fact.code.code}` : "";
  const after = fields.code ? `${fields.code.system}|${fields.code.code}` : "";
  if (before !== after) changes.code = fields.code;
  if (!sameAttributes(fact.attributes, fields.attributes)) changes.attributes = fields.attributes;
  return changes;
}

async function submitForm() {
  const form = state.form;
  if (!form || form.busy) return;
  let fields;
  try {
    fields = formFields();
  } catch (exc) {
    formError(exc.message);
    return;
  }
  const comment = els.comment.value.trim() || null;
  form.busy = true;
  let done;
  if (form.mode === "add") {
    done = await addFact(fields, comment);
  } else {
    const fact = factById(form.factId);
    const changes = corrections(fact, fields);
    if (!Object.keys(changes).length) {
      form.busy = false;
      formError("Nothing was changed: press Esc to cancel, or 1 to accept the fact as it is.");
      return;
    }
    state.current = fact.id;
    done = await decide("correct", changes, comment);
    // A conflict reloaded the fact: the form's values were for the old one.
    if (!els.conflict.hidden) done = true;
  }
  form.busy = false;
  if (done) closeForm();
  else formError(els.status.textContent);
}

function formError(message) {
  els.formError.textContent = message;
  els.formError.hidden = false;
}

els.form.addEventListener("submit", (event) => {
  event.preventDefault();
  submitForm();
});
els.cancel.addEventListener("click", () => {
  closeForm();
  showStatus("Edit cancelled.");
});
els.start.addEventListener("input", () => {
  const value = Number.parseInt(els.start.value, 10);
  if (Number.isInteger(value)) {
    state.form.start = value;
    syncForm();
  }
});
els.end.addEventListener("input", () => {
  const value = Number.parseInt(els.end.value, 10);
  if (Number.isInteger(value)) {
    state.form.end = value;
    syncForm();
  }
});
els.type.addEventListener("change", () => {
  if (!state.form.systemPicked) els.codeSystem.value = SYSTEM_FOR_TYPE[els.type.value] || els.codeSystem.value;
});
els.codeSystem.addEventListener("change", () => {
  state.form.systemPicked = true;
  searchCodes();
});
els.codeClear.addEventListener("click", () => {
  state.form.code = null;
  syncForm();
});

els.form.addEventListener("keydown", (event) => {
  if (!state.form) return;
  const target = event.target;
  if (event.key === "Escape") {
    event.preventDefault();
    event.stopPropagation();
    if (!els.codeResults.hidden) closeResults();
    else {
      closeForm();
      showStatus("Edit cancelled.");
    }
    return;
  }
  if (target === els.codeSearch && onSearchKey(event)) return;
  if (event.key === "Enter") {
    if (target.tagName === "TEXTAREA" && !(event.ctrlKey || event.metaKey)) return;
    if (target.tagName === "BUTTON") return; // the button's own action
    event.preventDefault();
    submitForm();
    return;
  }
  if (isTyping(target) || event.ctrlKey || event.metaKey || event.altKey) return;
  const keys = {
    "[": ["start", -1],
    "]": ["start", 1],
    "{": ["end", -1],
    "}": ["end", 1],
  };
  let move = keys[event.key];
  if (!move && event.shiftKey && event.key === "ArrowLeft") move = ["end", -1];
  if (!move && event.shiftKey && event.key === "ArrowRight") move = ["end", 1];
  if (move) {
    event.preventDefault();
    moveEdge(...move);
  }
});

// ---------------------------------------------------------------- code picker

function closeResults() {
  els.codeResults.hidden = true;
  els.codeResults.replaceChildren();
  els.codeSearch.setAttribute("aria-expanded", "false");
  state.search.results = [];
  state.search.active = -1;
}

function onSearchKey(event) {
  const search = state.search;
  if (els.codeResults.hidden || !search.results.length) return false;
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    const delta = event.key === "ArrowDown" ? 1 : -1;
    search.active = (search.active + delta + search.results.length) % search.results.length;
    highlightResult();
    return true;
  }
  if (event.key === "Enter") {
    event.preventDefault();
    pickCode(search.results[Math.max(0, search.active)]);
    return true;
  }
  return false;
}

function highlightResult() {
  [...els.codeResults.children].forEach((item, i) => {
    item.setAttribute("aria-selected", i === state.search.active ? "true" : "false");
    if (i === state.search.active) item.scrollIntoView({ block: "nearest" });
  });
}

function pickCode(result) {
  state.form.code = { system: result.system, code: result.code, display: result.display ?? null };
  els.codeSearch.value = "";
  closeResults();
  syncForm();
  els.codeSearch.focus();
}

function searchCodes() {
  clearTimeout(state.search.timer);
  const query = els.codeSearch.value.trim();
  if (!query) {
    closeResults();
    return;
  }
  // Wait for a pause in typing: one request per word, not per key.
  state.search.timer = setTimeout(async () => {
    const seq = ++state.search.seq;
    const system = els.codeSystem.value;
    let data;
    try {
      ({ data } = await api(`/terminology/search?system=${enc(system)}&q=${enc(query)}&limit=10`));
    } catch (exc) {
      if (exc.status !== 401) formError(`Code search failed: ${exc.message}`);
      return;
    }
    if (seq !== state.search.seq || !state.form) return; // an answer to an older query
    const results = data.results || [];
    state.search.results = results;
    state.search.active = results.length ? 0 : -1;
    els.codeResults.replaceChildren(
      ...(results.length
        ? results.map((r, i) =>
            el(
              "li",
              {
                role: "option",
                "aria-selected": i === 0 ? "true" : "false",
                dataset: { testid: "code-result", code: r.code },
                onmousedown: (event) => {
                  event.preventDefault(); // keep the focus in the search box
                  pickCode(r);
                },
              },
              el("code", { text: r.code }),
              " ",
              el("span", { text: r.display || "" }),
            ),
          )
        : [el("li", { class: "none", dataset: { testid: "code-none" }, text: `no ${system} code matches` })]),
    );
    els.codeResults.hidden = false;
    els.codeSearch.setAttribute("aria-expanded", "true");
  }, 150);
}

els.codeSearch.addEventListener("input", searchCodes);

// ---------------------------------------------------------------- dragging a span's edges

function caretOffset(x, y) {
  let node;
  let offset;
  if (document.caretPositionFromPoint) {
    const position = document.caretPositionFromPoint(x, y);
    if (!position) return null;
    ({ offsetNode: node, offset } = position);
  } else if (document.caretRangeFromPoint) {
    const range = document.caretRangeFromPoint(x, y);
    if (!range) return null;
    ({ startContainer: node, startOffset: offset } = range);
  } else return null;
  return noteOffset(node, offset);
}

els.note.addEventListener("pointerdown", (event) => {
  const grip = event.target.closest("[data-handle]");
  if (!grip || !state.form) return;
  event.preventDefault();
  state.drag = grip.dataset.handle;
  els.note.classList.add("dragging");
});

window.addEventListener("pointermove", (event) => {
  if (!state.drag || !state.form) return;
  const at = caretOffset(event.clientX, event.clientY);
  if (at === null) return;
  const form = state.form;
  const size = state.doc.cps.length;
  if (state.drag === "start") form.start = Math.max(0, Math.min(at, form.end - 1));
  else form.end = Math.min(size, Math.max(at, form.start + 1));
  syncForm();
});

window.addEventListener("pointerup", () => {
  if (!state.drag) return;
  state.drag = null;
  els.note.classList.remove("dragging");
  els.form.focus();
});

// ---------------------------------------------------------------- keyboard in the document view

document.addEventListener("keydown", (event) => {
  if (els.document.hidden || !state.doc || state.form) return;
  if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
  if (event.target instanceof HTMLElement && ["SELECT", "BUTTON"].includes(event.target.tagName) && event.key === "Enter") return;
  const actions = {
    1: () => decide("accept"),
    2: () => decide("reject"),
    3: () => openForm("correct"),
    4: addFromSelection,
    ArrowLeft: () => step(-1),
    ArrowRight: () => step(1),
    Escape: () => {
      location.hash = "#/";
    },
  };
  const action = actions[event.key];
  if (!action) return;
  event.preventDefault();
  action();
});

route();
