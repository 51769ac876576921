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

  // Text messages: characters and SMS parts (160 characters, 153 each once split).
  document.addEventListener("input", function (event) {
    var counter = document.querySelector('[data-count-for="' + event.target.id + '"]');
    if (!counter) { return; }
    var n = event.target.value.length;
    counter.textContent = n + " / " + (n <= 160 ? 1 : Math.ceil(n / 153)) + " SMS";
  });

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
