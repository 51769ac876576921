// accueil — small behaviours htmx does not cover. No inline scripts (the CSP forbids them).
(function () {
  "use strict";

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function elapsed(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var d = Math.floor(seconds / 86400), h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60);
    var s = seconds % 60;
    if (d) { return d + (document.documentElement.lang === "fr" ? " j " : " d ") + pad(h % 24) + " h"; }
    return h ? h + " h " + pad(m) + " min" : m ? m + " min " + pad(s) + " s" : s + " s";
  }

  // Time in state, wrap-up timers and offer countdowns, ticking every second.
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-since]").forEach(function (el) {
      var since = Date.parse(el.getAttribute("data-since"));
      if (!isNaN(since)) { el.textContent = elapsed((now - since) / 1000); }
    });
    document.querySelectorAll("[data-expires]").forEach(function (el) {
      var left = (Date.parse(el.getAttribute("data-expires")) - now) / 1000;
      el.textContent = elapsed(Math.max(left, 0));
    });
  }
  setInterval(tick, 1000);
  document.addEventListener("htmx:afterSettle", tick);
  document.addEventListener("DOMContentLoaded", tick);

  // Text messages: the same rules as channels/sms/segments.py. GSM 03.38 default alphabet (1 septet) and
  // its extension table (2 septets): 160 in one SMS, 153 per part; any other character sends the whole text
  // in UCS-2: 70 UTF-16 units, 67 per part. An escaped character or a surrogate pair is never split.
  var GSM7_BASIC = "@\u00a3$\u00a5\u00e8\u00e9\u00f9\u00ec\u00f2\u00c7\n\u00d8\u00f8\r\u00c5\u00e5" +
    "\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039e\u00c6\u00e6\u00df\u00c9" +
    " !\"#\u00a4%&'()*+,-./0123456789:;<=>?\u00a1ABCDEFGHIJKLMNOPQRSTUVWXYZ\u00c4\u00d6\u00d1\u00dc\u00a7" +
    "\u00bfabcdefghijklmnopqrstuvwxyz\u00e4\u00f6\u00f1\u00fc\u00e0";
  var GSM7_EXTENSION = "\f^{}\\[~]|\u20ac";

  function smsCount(text) {
    var chars = Array.from(text), forced = [], i, ch;
    for (i = 0; i < chars.length; i++) {
      ch = chars[i];
      if (GSM7_BASIC.indexOf(ch) < 0 && GSM7_EXTENSION.indexOf(ch) < 0 && forced.indexOf(ch) < 0) { forced.push(ch); }
    }
    var gsm = forced.length === 0, single = gsm ? 160 : 70, part = gsm ? 153 : 67;
    var costs = chars.map(function (c) {
      return gsm ? (GSM7_EXTENSION.indexOf(c) >= 0 ? 2 : 1) : (c.codePointAt(0) > 0xffff ? 2 : 1);
    });
    var units = costs.reduce(function (a, b) { return a + b; }, 0);
    var result = { encoding: gsm ? "GSM-7" : "UCS-2", units: units, forced: forced };
    if (units <= single) {
      result.segments = units ? 1 : 0;
      result.remaining = single - units;
      return result;
    }
    var segments = 1, used = 0;
    costs.forEach(function (cost) {
      if (used + cost > part) { segments += 1; used = 0; }
      used += cost;
    });
    result.segments = segments;
    result.remaining = part - used;
    return result;
  }
  window.accueilSmsCount = smsCount;  // the browser test compares it with the server's figures

  function recount(field) {
    var counter = field && field.id && document.querySelector('[data-count-for="' + field.id + '"]');
    if (!counter) { return; }
    var template = counter.getAttribute("data-sms-template");
    if (!template) {  // another messaging channel: characters only
      counter.textContent = String(field.value.length);
      return;
    }
    var c = smsCount(field.value);
    var text = template.replace("{encoding}", c.encoding).replace("{segments}", c.segments)
      .replace("{remaining}", c.remaining);
    if (c.forced.length) {
      text += " " + (counter.getAttribute("data-sms-forced") || "").replace("{characters}", c.forced.join(" "));
    }
    counter.textContent = text;
  }
  document.addEventListener("input", function (event) { recount(event.target); });
  document.addEventListener("htmx:afterSettle", function () { recount(document.getElementById("reply-body")); });

  // The language picker submits itself.
  document.addEventListener("change", function (event) {
    if (event.target.classList && event.target.classList.contains("autosubmit")) {
      event.target.form.submit();
    }
  });

  // A case update only refreshes the conversation that shows that case.
  document.addEventListener("htmx:confirm", function (event) {
    var trigger = event.detail.triggeringEvent;
    if (!trigger || trigger.type !== "sse:case") { return; }
    var shown = event.detail.elt.getAttribute("data-case-id");
    var data = {};
    try { data = JSON.parse(trigger.detail.data || "{}"); } catch (e) { data = {}; }
    if (!shown || data.case_id !== shown) { event.preventDefault(); }
  });

  // A live refresh of the conversation (another agent's note, the customer's next message) keeps what the
  // agent was typing: the fields they changed are put back into the refreshed panel of the same case.
  function fieldKey(field) {
    var form = field.form;
    return (form ? form.getAttribute("hx-post") || "" : "") + "|" + (field.name || field.id);
  }
  document.addEventListener("input", markDirty);
  document.addEventListener("change", markDirty);
  function markDirty(event) {
    var field = event.target;
    if (field.closest && field.closest("#conversation") && !field.hasAttribute("hx-trigger")) {
      field.setAttribute("data-dirty", "1");
    }
  }
  var drafts = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var elt = event.detail.elt, config = event.detail.requestConfig || {};
    drafts = null;
    if (!elt || elt.id !== "conversation" || !config.triggeringEvent || config.triggeringEvent.type !== "sse:case") {
      return;
    }
    drafts = { caseId: elt.getAttribute("data-case-id"), fields: {}, focus: null };
    elt.querySelectorAll("[data-dirty]").forEach(function (field) {
      drafts.fields[fieldKey(field)] = field.type === "checkbox" ? { checked: field.checked } : { value: field.value };
      if (field === document.activeElement) { drafts.focus = fieldKey(field); }
    });
  });
  document.addEventListener("htmx:afterSwap", function () {
    var saved = drafts, fresh = document.getElementById("conversation");
    drafts = null;
    if (!saved || !fresh || fresh.getAttribute("data-case-id") !== saved.caseId) { return; }
    fresh.querySelectorAll("input, textarea, select").forEach(function (field) {
      var key = fieldKey(field), value = saved.fields[key];
      if (!value) { return; }
      if ("checked" in value) { field.checked = value.checked; } else { field.value = value.value; }
      field.setAttribute("data-dirty", "1");
      if (saved.focus === key) { field.focus(); }
    });
  });

  // Keyboard: Alt+A accepts the first offer, Alt+D declines it.
  document.addEventListener("keydown", function (event) {
    if (!event.altKey) { return; }
    var offer = document.querySelector(".offer");
    if (!offer) { return; }
    var buttons = offer.querySelectorAll("button");
    if (event.key === "a" && buttons[0]) { buttons[0].click(); event.preventDefault(); }
    if (event.key === "d" && buttons[1]) { buttons[1].click(); event.preventDefault(); }
  });
})();
