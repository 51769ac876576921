// accueil — web chat in the agent console: the visitor's lines appear live in the open conversation,
// "the customer is typing…" shows, and the agent's typing is announced to the visitor.
// Loaded by agent/_chat_extras.html (only for chats); it runs once per page whatever the swaps.
(function () {
  "use strict";
  if (window.__accueilAgentChat) { return; }
  window.__accueilAgentChat = true;
  var source = null, lastTyping = 0, typingTimer = null;

  function extras() { return document.querySelector(".chat-extras[data-chat-case]"); }
  function shownCase() { var box = extras(); return box ? box.getAttribute("data-chat-case") : null; }

  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || ""; } catch (e) { return ""; }
  }

  // Refresh the open conversation through the server's own rendering, keeping what the agent is typing.
  function refresh(caseId) {
    var box = document.getElementById("reply-body");
    var draft = box ? box.value : "", focused = box && document.activeElement === box;
    window.htmx.ajax("GET", "/agent/cases/" + caseId, { target: "#conversation", swap: "outerHTML" }).then(function () {
      var again = document.getElementById("reply-body");
      if (again && draft && !again.value) { again.value = draft; }
      if (again && focused) { again.focus(); }
    });
  }

  function listen() {
    if (source) { return; }
    source = new EventSource("/agent/chat/live");
    source.addEventListener("chat-message", function (event) {
      var data = JSON.parse(event.data || "{}");
      var line = document.querySelector(".chat-typing");
      if (line) { line.textContent = ""; }
      if (data.case_id && data.case_id === shownCase()) { refresh(data.case_id); }
    });
    source.addEventListener("chat-closed", function (event) {
      var data = JSON.parse(event.data || "{}");
      if (data.case_id && data.case_id === shownCase()) { refresh(data.case_id); }
    });
    source.addEventListener("chat-typing", function (event) {
      var data = JSON.parse(event.data || "{}");
      var line = document.querySelector(".chat-typing");
      if (!line || data.case_id !== shownCase()) { return; }
      line.textContent = line.getAttribute("data-typing-text");
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { line.textContent = ""; }, 4000);
    });
  }

  document.addEventListener("input", function (event) {
    var box = extras();
    if (!box || event.target.id !== "reply-body") { return; }
    var internal = document.querySelector('#conversation input[name="internal"]');
    if (internal && internal.checked) { return; }  // a note is not for the customer's eyes
    var now = Date.now();
    if (now - lastTyping < 2000) { return; }
    lastTyping = now;
    fetch(box.getAttribute("data-typing-url"), { method: "POST", headers: { "X-CSRF-Token": csrf() },
                                                 credentials: "same-origin" });
  });

  listen();
})();
