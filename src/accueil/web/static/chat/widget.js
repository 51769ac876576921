/* accueil web chat widget — embed with one tag:
 *   <script src="https://your-accueil/static/chat/widget.js" data-language="fr" async></script>
 * No dependency. Lives in a shadow root (the host page's CSS stays out, ours stays in). Talks to
 * /ws/chat over a WebSocket; every line has a number, so after a dropped connection it resumes from the
 * last number seen (replayed, nothing lost or twice) and resends its own messages not yet acknowledged.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__accueilChat) { return; }
  window.__accueilChat = true;
  var base = new URL(".", script.src);  // .../static/chat/
  var origin = new URL("/", base);
  var lang = (script.getAttribute("data-language") || document.documentElement.lang || "fr").slice(0, 2);
  if (lang !== "fr" && lang !== "en") { lang = "fr"; }
  var KEY = "accueil-chat:" + origin.host;

  var TEXT = {
    fr: {
      open: "Discuter avec nous", title: "Service client", close: "Fermer", advisor: "Parler à un conseiller",
      callme: "Être rappelé", name: "Votre nom", email: "Votre e-mail", motif: "Motif", question: "Votre question",
      start: "Démarrer la discussion", write: "Votre message", send: "Envoyer", transcript: "Recevoir la transcription par e-mail",
      end: "Terminer la discussion", phone: "Votre numéro de téléphone", ask: "Demander le rappel", back: "Retour",
      position: function (p, w) { return p === 0 ? "Un conseiller va vous répondre." : "Vous êtes " + (p === 1 ? "le prochain" : "en position " + p) + (w == null ? "." : " — attente estimée : " + duration(w) + "."); },
      joined: function (n) { return (n || "Un conseiller") + " a rejoint la discussion."; },
      left: "Le conseiller a quitté la discussion ; vous êtes de nouveau en file.", typing: function (n) { return (n || "Le conseiller") + " écrit…"; },
      ended: "La discussion est terminée. Merci !", reconnecting: "Connexion perdue, reconnexion…", sending: "envoi…",
      transcriptSent: "La transcription vous sera envoyée par e-mail.", callbackOk: "C'est noté : nous vous rappelons.",
      unavailable: "Nos conseillers ne sont pas disponibles pour le moment.", chooseMotif: "Choisissez…", you: "Vous"
    },
    en: {
      open: "Chat with us", title: "Customer service", close: "Close", advisor: "Talk to an advisor",
      callme: "Call me back", name: "Your name", email: "Your email", motif: "Reason", question: "Your question",
      start: "Start the chat", write: "Your message", send: "Send", transcript: "Email me the transcript",
      end: "End the chat", phone: "Your phone number", ask: "Ask for a callback", back: "Back",
      position: function (p, w) { return p === 0 ? "An advisor is about to answer." : "You are " + (p === 1 ? "next" : "number " + p + " in line") + (w == null ? "." : " — estimated wait: " + duration(w) + "."); },
      joined: function (n) { return (n || "An advisor") + " joined the chat."; },
      left: "The advisor left the chat; you are back in the queue.", typing: function (n) { return (n || "The advisor") + " is typing…"; },
      ended: "The chat has ended. Thank you!", reconnecting: "Connection lost, reconnecting…", sending: "sending…",
      transcriptSent: "The transcript will be sent to you by email.", callbackOk: "Noted: we will call you back.",
      unavailable: "Our advisors are not available right now.", chooseMotif: "Choose…", you: "You"
    }
  }[lang];

  function duration(s) {
    s = Math.max(0, Math.round(s));
    if (s < 60) { return s + " s"; }
    var m = Math.round(s / 60);
    return m < 60 ? m + " min" : Math.floor(m / 60) + " h " + (m % 60 < 10 ? "0" : "") + (m % 60);
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { node.appendChild(c); });
    return node;
  }

  function newId() {
    // Unguessable: a message id also identifies a repeated start, so it must not be predictable.
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    if (window.crypto && crypto.getRandomValues) {
      var bytes = crypto.getRandomValues(new Uint8Array(16));
      return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
    }
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);
  }

  // State kept for this browser tab: the token, our messages not yet acknowledged.
  var saved = {};
  try { saved = JSON.parse(sessionStorage.getItem(KEY) || "{}"); } catch (e) { saved = {}; }
  var state = { token: saved.token || null, pending: saved.pending || [], watermark: 0, seen: {}, shownIds: {},
                socket: null, retry: 0, ended: false, agent: null, lastTyping: 0 };
  function save() {
    try { sessionStorage.setItem(KEY, JSON.stringify({ token: state.token, pending: state.pending })); } catch (e) { /* private mode */ }
  }

  // The shadow root and its views.
  var host = el("div", { id: "accueil-chat" });
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  root.appendChild(el("link", { rel: "stylesheet", href: new URL("widget.css", base).href }));
  var launcher = el("button", { "class": "launcher", type: "button", "aria-expanded": "false", text: TEXT.open });
  var panel = el("section", { "class": "panel", role: "dialog", "aria-label": TEXT.title, hidden: "" });
  root.appendChild(launcher);
  root.appendChild(panel);
  var header = el("header", {}, [el("h2", { text: TEXT.title }),
    el("button", { type: "button", "class": "x", "aria-label": TEXT.close, text: "×" })]);
  var body = el("div", { "class": "body" });
  panel.appendChild(header);
  panel.appendChild(body);
  header.lastChild.addEventListener("click", function () { toggle(false); });
  launcher.addEventListener("click", function () { toggle(panel.hasAttribute("hidden")); });

  function toggle(open) {
    if (open) { panel.removeAttribute("hidden"); } else { panel.setAttribute("hidden", ""); }
    launcher.setAttribute("aria-expanded", open ? "true" : "false");
    if (open && !body.firstChild) { state.token ? showChat() : showLanding(); }
  }

  function view(nodes) {
    while (body.firstChild) { body.removeChild(body.firstChild); }
    nodes.forEach(function (n) { body.appendChild(n); });
  }

  function field(label, input) {
    return el("label", {}, [el("span", { text: label }), input]);
  }

  function showLanding() {
    var talk = el("button", { type: "button", "class": "primary", text: TEXT.advisor });
    var call = el("button", { type: "button", text: TEXT.callme });
    talk.addEventListener("click", showForm);
    call.addEventListener("click", function () { showCallback(true); });
    view([el("div", { "class": "choices" }, [talk, call])]);
  }

  function showForm() {
    var name = el("input", { name: "name", required: "", maxlength: "200", autocomplete: "name" });
    var email = el("input", { name: "email", type: "email", required: "", maxlength: "320", autocomplete: "email" });
    var motif = el("select", { name: "motif" }, [el("option", { value: "", text: TEXT.chooseMotif })]);
    var question = el("textarea", { name: "text", required: "", rows: "3", maxlength: "2000" });
    var submit = el("button", { type: "submit", "class": "primary", text: TEXT.start });
    var form = el("form", { "class": "prechat" }, [field(TEXT.name, name), field(TEXT.email, email),
      field(TEXT.motif, motif), field(TEXT.question, question), submit]);
    fetch(new URL("/api/v1/chat/motifs?lang=" + lang, origin).href).then(function (r) { return r.json(); })
      .then(function (motifs) { motifs.forEach(function (m) { motif.appendChild(el("option", { value: m.code, text: m.label })); }); })
      .catch(function () { /* the chat works without a motif */ });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var id = newId();
      var start = { type: "start", id: id, name: name.value, email: email.value, text: question.value, language: lang };
      if (motif.value) { start.motif = motif.value; }
      state.startFrame = start;
      showChat();
      addLine("customer", TEXT.you, question.value, id, true);
      connect();
    });
    view([form]);
    name.focus();
  }

  var chatNodes = null;
  function showChat() {
    var status = el("p", { "class": "status", role: "status", "aria-live": "polite" });
    var log = el("ol", { "class": "log", "aria-live": "polite" });
    var typing = el("p", { "class": "typing", "aria-live": "polite" });
    var input = el("textarea", { rows: "2", maxlength: "2000", "aria-label": TEXT.write, placeholder: TEXT.write });
    var send = el("button", { type: "submit", "class": "primary", text: TEXT.send });
    var form = el("form", { "class": "compose" }, [input, send]);
    var transcript = el("button", { type: "button", "class": "link", text: TEXT.transcript });
    var callme = el("button", { type: "button", "class": "link", text: TEXT.callme });
    var end = el("button", { type: "button", "class": "link", text: TEXT.end });
    chatNodes = { status: status, log: log, typing: typing, input: input, form: form };
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value.trim();
      if (!text || state.ended) { return; }
      var message = { type: "message", id: newId(), text: text };
      state.pending.push(message);
      save();
      addLine("customer", TEXT.you, text, message.id, true);
      input.value = "";
      transmit(message);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit ? form.requestSubmit() : send.click(); }
    });
    input.addEventListener("input", function () {
      var now = Date.now();
      if (now - state.lastTyping > 2000) { state.lastTyping = now; transmit({ type: "typing" }); }
    });
    transcript.addEventListener("click", function () { transmit({ type: "transcript" }); });
    callme.addEventListener("click", function () { showCallback(false); });
    end.addEventListener("click", function () { transmit({ type: "close" }); });
    view([status, log, typing, form, el("div", { "class": "actions" }, [transcript, callme, end])]);
    if (state.token && !state.socket) { connect(); }
  }

  function showCallback(beforeChat) {
    var phone = el("input", { name: "phone", type: "tel", required: "", maxlength: "40", autocomplete: "tel" });
    var name = el("input", { name: "name", required: "", maxlength: "200", autocomplete: "name" });
    var fields = beforeChat ? [field(TEXT.name, name), field(TEXT.phone, phone)] : [field(TEXT.phone, phone)];
    var submit = el("button", { type: "submit", "class": "primary", text: TEXT.ask });
    var back = el("button", { type: "button", "class": "link", text: TEXT.back });
    var note = el("p", { "class": "status", role: "status" });
    var form = el("form", { "class": "callback" }, fields.concat([submit, back, note]));
    back.addEventListener("click", function () { beforeChat ? showLanding() : restoreChat(); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var frame = { type: "callback", phone: phone.value };
      if (beforeChat) { frame.name = name.value; }
      state.callbackNote = note;
      if (!transmit(frame) && !state.socket) { state.afterOpen = frame; connect(); }
    });
    var saved = chatNodes && !beforeChat ? Array.prototype.slice.call(body.childNodes) : null;
    state.chatView = saved;
    view([form]);
    phone.focus();
  }

  function restoreChat() {
    if (state.chatView) { view(state.chatView); state.chatView = null; } else { showChat(); }
  }

  function addLine(author, name, text, id, pending) {
    if (!chatNodes) { return null; }
    if (id && state.shownIds[id]) { return state.shownIds[id]; }
    var item = el("li", { "class": "line " + author + (pending ? " pending" : "") }, [
      el("span", { "class": "who", text: name || "" }), el("span", { "class": "text", text: text })]);
    chatNodes.log.appendChild(item);
    chatNodes.log.scrollTop = chatNodes.log.scrollHeight;
    if (id) { state.shownIds[id] = item; }
    return item;
  }

  function setStatus(text) { if (chatNodes) { chatNodes.status.textContent = text; } }

  // The socket ------------------------------------------------------------------------------------------------

  function transmit(frame) {
    if (state.socket && state.socket.readyState === 1 && state.live) {
      state.socket.send(JSON.stringify(frame));
      return true;
    }
    return false;  // messages stay pending and go after the reconnection
  }

  function connect() {
    var url = new URL("/ws/chat?lang=" + lang, origin);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    var socket = new WebSocket(url.href);
    state.socket = socket;
    state.live = false;
    socket.onopen = function () {
      state.live = true;
      if (state.token) {
        socket.send(JSON.stringify({ type: "resume", token: state.token, last_seq: state.watermark }));
      } else if (state.startFrame) {
        socket.send(JSON.stringify(state.startFrame));
      } else if (state.afterOpen) {
        socket.send(JSON.stringify(state.afterOpen));
        state.afterOpen = null;
      }
    };
    socket.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      receive(frame);
    };
    socket.onclose = function () {
      state.live = false;
      if (state.socket !== socket) { return; }
      state.socket = null;
      if (state.ended || (!state.token && !state.startFrame)) { return; }
      setStatus(TEXT.reconnecting);
      var delay = Math.min(30000, 500 * Math.pow(2, state.retry)) * (0.75 + Math.random() / 2);
      state.retry += 1;
      setTimeout(connect, delay);
    };
  }

  function mark(seq) {
    if (seq <= state.watermark || state.seen[seq]) { return false; }
    state.seen[seq] = true;
    while (state.seen[state.watermark + 1]) { state.watermark += 1; delete state.seen[state.watermark]; }
    return true;
  }

  function acked(id) {
    state.pending = state.pending.filter(function (m) { return m.id !== id; });
    save();
    var line = state.shownIds[id];
    if (line) { line.classList.remove("pending"); }
  }

  function receive(frame) {
    switch (frame.type) {
      case "started":
        state.token = frame.token;
        state.retry = 0;
        save();
        break;
      case "resumed":
        state.retry = 0;
        setStatus("");
        state.pending.forEach(function (m) { addLine("customer", TEXT.you, m.text, m.id, true); transmit(m); });
        break;
      case "ack":
        mark(frame.seq);
        if (state.startFrame && frame.id === state.startFrame.id) { state.startFrame = null; }
        acked(frame.id);
        break;
      case "message":
        if (!mark(frame.seq)) { break; }
        if (frame.author === "customer") {
          addLine("customer", TEXT.you, frame.text, frame.id, false);
          acked(frame.id);
        } else {
          addLine(frame.author, frame.name, frame.text, null, false);
          if (chatNodes) { chatNodes.typing.textContent = ""; }
        }
        break;
      case "queue":
        if (!state.agent) { setStatus(TEXT.position(frame.position, frame.wait_seconds)); }
        break;
      case "agent_joined":
        state.agent = frame.name || "";
        setStatus(TEXT.joined(frame.name));
        break;
      case "agent_left":
        state.agent = null;
        setStatus(TEXT.left);
        break;
      case "typing":
        if (chatNodes) {
          chatNodes.typing.textContent = TEXT.typing(frame.name);
          clearTimeout(state.typingTimer);
          state.typingTimer = setTimeout(function () { chatNodes.typing.textContent = ""; }, 4000);
        }
        break;
      case "unavailable":
        setStatus(TEXT.unavailable);
        break;
      case "transcript_queued":
        setStatus(TEXT.transcriptSent);
        break;
      case "callback_scheduled":
        if (state.callbackNote) { state.callbackNote.textContent = TEXT.callbackOk; }
        break;
      case "ended":
      case "closed":
        state.ended = frame.type === "closed";
        setStatus(TEXT.ended);
        if (frame.type === "closed") { state.token = null; state.pending = []; save(); }
        break;
      case "error":
        if (frame.code === "not_found") { state.token = null; save(); }
        setStatus(frame.message);
        if (state.callbackNote) { state.callbackNote.textContent = frame.message; }
        break;
    }
  }

  function mount() {
    document.body.appendChild(host);
    if (state.token) { toggle(true); }
  }
  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }
})();
