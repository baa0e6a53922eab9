// Welcome Desk chat widget: one script tag on any page, no build step.
//   <script src="https://<host>/widget.js" data-city="wien" data-language="auto" defer></script>
// It talks to the web app it was loaded from (/channels/widget/...), lives in a shadow DOM
// (its styles neither leak into the page nor take the page's), and keeps the conversation
// in localStorage. Plain ES2017: no framework, works on plain HTTP too.
(function () {
  "use strict";

  const script =
    document.currentScript || document.querySelector('script[src$="/widget.js"]');
  if (!script || window.__welcomeDeskWidget) return;
  window.__welcomeDeskWidget = true;

  const ORIGIN = new URL(script.src, location.href).origin;
  const API = ORIGIN + "/channels/widget";
  const CITY = script.dataset.city || null;
  const DEFAULT_LANGUAGE = script.dataset.language || "auto";
  const STORE_KEY = "welcome-desk:" + ORIGIN + ":" + (CITY || "");
  const KEPT_MESSAGES = 60;
  // A conversation untouched this long is forgotten in the browser too, as the server
  // forgets it (RETENTION_DAYS, 30 by default).
  const FORGET_AFTER_MS = 30 * 24 * 60 * 60 * 1000;
  const REQUEST_TIMEOUT_MS = 45000;

  // The widget's styles, inside its shadow root. Sizes in em: they follow the text size.
  // Colours checked for contrast >= 4.5:1 (text) and 3:1 (borders, focus).
  const STYLE = [
    ":host { all: initial; }",
    ":host { font: 400 max(1rem, 15px)/1.45 system-ui, -apple-system, 'Segoe UI', Roboto,",
    "  'Noto Sans', 'Noto Sans Arabic', Tahoma, sans-serif; color: #1b1b1b; }",
    "*, *::before, *::after { box-sizing: border-box; }",
    "[hidden] { display: none !important; }",
    ".visually-hidden { position: absolute; width: 1px; height: 1px; margin: -1px;",
    "  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; padding: 0; }",
    "button, input, select { font: inherit; color: inherit; margin: 0; }",
    "button { cursor: pointer; }",
    ":focus-visible { outline: 3px solid #1b1b1b; outline-offset: 2px;",
    "  box-shadow: 0 0 0 5px #fff; }",
    ".launcher { position: fixed; z-index: 2147483000; bottom: 1em;",
    "  right: 1em; display: flex; align-items: center; gap: .5em;",
    "  min-height: 3em; padding: .6em 1.1em; border: 2px solid #fff; border-radius: 2em;",
    "  background: #0a4f9e; color: #fff; font-weight: 600;",
    "  box-shadow: 0 .2em .8em rgba(0,0,0,.35); max-width: calc(100vw - 2em); }",
    ":host(.open) .launcher { display: none; }",
    ".panel { position: fixed; z-index: 2147483001; bottom: 1em;",
    "  right: 1em; width: min(26em, calc(100vw - 2em));",
    "  height: min(42em, calc(100vh - 2em)); display: flex; flex-direction: column;",
    "  background: #fff; border: 1px solid #767676; border-radius: .75em; overflow: hidden;",
    "  box-shadow: 0 .3em 1.5em rgba(0,0,0,.3); }",
    "@media (max-width: 36em), (max-height: 36em) {",
    "  .panel { inset: 0; width: 100%; height: 100%; border-radius: 0; border: 0; } }",
    "header { display: flex; align-items: center; gap: .5em; padding: .5em .75em;",
    "  background: #0a4f9e; color: #fff; flex-wrap: wrap; }",
    "h2 { font-size: 1.1em; margin: 0; flex: 1 1 auto; }",
    "header select { max-width: 10em; padding: .3em; border: 1px solid #fff;",
    "  border-radius: .3em; background: #fff; color: #1b1b1b; }",
    ".close { min-width: 2.2em; min-height: 2.2em; border: 0; border-radius: .3em;",
    "  background: transparent; color: #fff; font-size: 1.3em; line-height: 1; }",
    "header :focus-visible { outline-color: #fff; box-shadow: 0 0 0 5px #1b1b1b; }",
    ".tools { display: flex; gap: .5em; padding: .4em .75em; border-bottom: 1px solid #d0d0d0;",
    "  flex-wrap: wrap; }",
    ".tools button, .card-actions button, .retry { padding: .25em .7em; min-height: 2em;",
    "  border: 1px solid #0a4f9e; border-radius: .3em; background: #fff; color: #0a4f9e; }",
    ".messages { flex: 1 1 auto; overflow-y: auto; margin: 0; padding: .75em; list-style: none;",
    "  display: flex; flex-direction: column; gap: .6em; position: relative; }",
    ".message { max-width: 88%; display: flex; flex-direction: column; gap: .4em; }",
    ".message.assistant, .message.error { align-self: flex-start; }",
    ".message.user { align-self: flex-end; }",
    ".text { margin: 0; padding: .5em .8em; border-radius: 1em; white-space: pre-line;",
    "  overflow-wrap: anywhere; }",
    ".assistant .text { background: #eef1f5; border-end-start-radius: .25em; }",
    ".user .text { background: #0a4f9e; color: #fff; border-end-end-radius: .25em; }",
    ".pending .text { background: #3c6ea8; }",
    ".from { margin: 0; font-size: .85em; font-weight: 600; color: #1d6b3a; }",
    ".staff .text { background: #e6f4ea; border: 1px solid #1d6b3a; }",
    ".error .text { background: #fdecea; color: #8a1c12; border: 1px solid #d4351c; }",
    ".choices { display: flex; flex-wrap: wrap; gap: .4em; }",
    ".choice { padding: .35em .8em; min-height: 2.2em; border: 2px solid #0a4f9e;",
    "  border-radius: 1.2em; background: #fff; color: #0a4f9e; font-weight: 600; }",
    ".card { background: #eef1f5; border-radius: .75em; padding: .6em .8em;",
    "  border-inline-start: .3em solid #0a4f9e; overflow-wrap: anywhere; }",
    ".card h3 { font-size: 1.05em; margin: 0 0 .3em; }",
    ".card p { margin: .2em 0; white-space: pre-line; }",
    ".card a { color: #0a4f9e; font-weight: 600; }",
    ".card .warning { color: #8a1c12; font-weight: 600; }",
    // The icons of the card's lines (the lines come without them); decoration only, so
    // screen readers skip them.
    '.card .reasons::before { content: "👍 " / ""; }',
    '.card .status::before { content: "🕒 " / ""; }',
    '.card .address::before { content: "📍 " / ""; }',
    '.card .phone::before { content: "☎ " / ""; }',
    '.card .only-for::before { content: "👥 " / ""; }',
    '.card .languages::before { content: "🗣 " / ""; }',
    '.card .url::before { content: "🌐 " / ""; }',
    '.card .email::before { content: "✉ " / ""; }',
    '.card .checked::before { content: "✔ " / ""; }',
    '.card .warning::before { content: "⚠ " / ""; }',
    ".card-actions { display: flex; gap: .5em; margin-top: .4em; flex-wrap: wrap; }",
    ".typing { display: flex; gap: .3em; padding: 0 1.25em .5em; }",
    ".typing span { width: .5em; height: .5em; border-radius: 50%; background: #595959;",
    "  animation: blink 1.2s infinite ease-in-out; }",
    ".typing span:nth-child(2) { animation-delay: .2s; }",
    ".typing span:nth-child(3) { animation-delay: .4s; }",
    "@keyframes blink { 0%, 80%, 100% { opacity: .25; } 40% { opacity: 1; } }",
    "@media (prefers-reduced-motion: reduce) { .typing span { animation: none; } }",
    ".notice { margin: 0 .75em .4em; padding: .4em .6em; background: #fff4e5;",
    "  border: 1px solid #b35900; color: #5c2e00; border-radius: .3em; }",
    ".composer { display: flex; gap: .4em; padding: .5em .75em .75em;",
    "  border-top: 1px solid #d0d0d0; }",
    ".composer input { flex: 1 1 auto; min-width: 0; min-height: 2.5em; padding: .4em .6em;",
    "  border: 1px solid #595959; border-radius: .4em; background: #fff; }",
    ".composer input::placeholder { color: #595959; opacity: 1; }",
    ".send { padding: .4em .9em; border: 0; border-radius: .4em; background: #0a4f9e;",
    "  color: #fff; font-weight: 600; }",
    ".locate { padding: .4em .5em; border: 1px solid #595959; border-radius: .4em;",
    "  background: #fff; }",
    ".print-frame { position: fixed; width: 0; height: 0; border: 0; visibility: hidden; }",
  ].join("\n");

  // ---- state, kept across page loads --------------------------------------------------

  // conversation: the widget's own random id (the web app pseudonymises it for Rasa);
  // outbox: messages not answered yet, resent with the same id after a network drop;
  // hintSent: the picked language travels once, so that writing in another language later
  // can still switch the conversation (a hint would win over the text every time).
  function freshState(picked) {
    return {
      conversation: randomId(),
      messages: [],
      outbox: [],
      picked: picked,
      hintSent: false,
      lastEventId: 0,
      open: false,
    };
  }

  function loadState() {
    try {
      const stored = JSON.parse(localStorage.getItem(STORE_KEY) || "null");
      const stale = stored && Date.now() - (stored.savedAt || Date.now()) > FORGET_AFTER_MS;
      if (stale) localStorage.removeItem(STORE_KEY);
      else if (stored && typeof stored.conversation === "string") return stored;
    } catch (error) {
      // A broken or unreadable entry: start afresh.
    }
    return freshState(DEFAULT_LANGUAGE);
  }

  function saveState() {
    state.messages = state.messages.slice(-KEPT_MESSAGES);
    state.savedAt = Date.now();
    try {
      localStorage.setItem(STORE_KEY, JSON.stringify(state));
    } catch (error) {
      // Private mode or a full storage: the conversation lasts this page only.
    }
  }

  // crypto.randomUUID needs a secure context; getRandomValues works on plain HTTP too.
  function randomId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return btoa(String.fromCharCode.apply(null, bytes))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");
  }

  const state = loadState();
  let ui = null; // the texts of the widget's language (GET /texts)
  let sending = false;
  let retryTimer = null;
  let events = null;

  // ---- the widget's own texts ------------------------------------------------------------

  function uiLanguageQuery() {
    if (state.picked && state.picked !== "auto") return state.picked;
    return (navigator.languages || [navigator.language || "en"]).join(",");
  }

  async function loadTexts() {
    const cacheKey = STORE_KEY + ":texts:" + uiLanguageQuery();
    try {
      const response = await fetch(
        API + "/texts?language=" + encodeURIComponent(uiLanguageQuery())
      );
      if (!response.ok) throw new Error("HTTP " + response.status);
      ui = await response.json();
      try {
        localStorage.setItem(cacheKey, JSON.stringify(ui));
      } catch (error) {
        // Not cached: fetched again next time.
      }
    } catch (error) {
      const cached = localStorage.getItem(cacheKey);
      if (cached) ui = JSON.parse(cached);
      else return setTimeout(loadTexts, 5000); // offline on the first visit
    }
    render();
  }

  function t(key) {
    return (ui && ui.texts[key]) || key;
  }

  // ---- the elements ----------------------------------------------------------------------

  const host = document.createElement("aside");
  host.id = "welcome-desk-widget";
  const root = host.attachShadow({ mode: "open" });
  root.innerHTML =
    "<style>" + STYLE + "</style>" +
    '<button class="launcher" type="button" aria-expanded="false" aria-controls="panel">' +
    '<span aria-hidden="true" class="bubble-icon">💬</span><span class="launcher-text"></span>' +
    "</button>" +
    '<section class="panel" id="panel" role="dialog" aria-labelledby="title" hidden>' +
    "<header>" +
    '<h2 id="title"></h2>' +
    '<label class="language"><span class="visually-hidden"></span><select></select></label>' +
    '<button class="close" type="button"><span aria-hidden="true">×</span></button>' +
    "</header>" +
    '<div class="tools"><button type="button" class="start-over"></button>' +
    '<button type="button" class="print"></button>' +
    '<button type="button" class="person"></button></div>' +
    '<ol class="messages" tabindex="0"></ol>' +
    '<div class="typing" aria-hidden="true" hidden><span></span><span></span><span></span></div>' +
    '<p class="notice" hidden></p>' +
    '<form class="composer" novalidate>' +
    '<label class="visually-hidden" for="message"></label>' +
    '<input id="message" type="text" dir="auto" autocomplete="off" enterkeyhint="send">' +
    '<button type="button" class="locate" hidden><span aria-hidden="true">📍</span></button>' +
    '<button type="submit" class="send"></button>' +
    "</form>" +
    '<div class="visually-hidden" aria-live="polite" aria-atomic="true"></div>' +
    "</section>";

  const $ = (selector) => root.querySelector(selector);
  const launcher = $(".launcher");
  const panel = $(".panel");
  const list = $(".messages");
  const select = $("select");
  const input = $("input");
  const form = $("form");
  const typing = $(".typing");
  const notice = $(".notice");
  const live = $("[aria-live]");
  const locate = $(".locate");

  function render() {
    if (!ui) return;
    if (!host.isConnected) document.body.appendChild(host);
    host.setAttribute("aria-label", t("title"));
    panel.lang = ui.language;
    panel.dir = ui.direction;
    $(".launcher-text").textContent = t("open");
    $("#title").textContent = t("title");
    $(".language span").textContent = t("language");
    $(".close").setAttribute("aria-label", t("close"));
    $(".start-over").textContent = t("start_over");
    $(".print").textContent = t("print");
    $(".person").textContent = t("person");
    $("label[for=message]").textContent = t("message");
    input.placeholder = t("placeholder");
    $(".send").textContent = t("send");
    locate.setAttribute("aria-label", t("share_location"));
    locate.title = t("share_location");
    locate.hidden = !(navigator.geolocation && window.isSecureContext);
    list.setAttribute("aria-label", t("conversation"));
    typing.title = t("typing");
    renderLanguageMenu();
    renderMessages();
    setOpen(state.open, false);
  }

  function renderLanguageMenu() {
    select.textContent = "";
    const auto = new Option(t("language_auto"), "auto");
    select.appendChild(auto);
    ui.languages.forEach(function (language) {
      const option = new Option(language.name, language.code);
      option.lang = language.code;
      option.dir = language.direction;
      select.appendChild(option);
    });
    select.value = state.picked || "auto";
  }

  // ---- messages ----------------------------------------------------------------------------

  // The whole list, on load and when the language or the conversation changes; new
  // messages are added one by one after that, so that focus and scrolling stay put.
  function renderMessages() {
    list.textContent = "";
    list.appendChild(messageItem({ role: "assistant", text: t("intro") }));
    // Only the latest answer still has buttons: sending clears the earlier ones.
    state.messages.forEach(function (message) {
      list.appendChild(messageItem(message, true));
    });
    state.outbox.forEach(function (pending) {
      list.appendChild(pendingItem(pending));
    });
    typing.hidden = state.outbox.length === 0;
    list.scrollTop = list.scrollHeight;
  }

  function pendingItem(pending) {
    const item = messageItem({ role: "user", text: pending.shown });
    item.classList.add("pending");
    item.dataset.id = pending.id;
    return item;
  }

  // Answers go before the messages still waiting for theirs.
  function addItem(item) {
    list.insertBefore(item, list.querySelector(".pending"));
    return item;
  }

  function messageItem(message, showChoices) {
    const item = document.createElement("li");
    item.className =
      "message " + message.role + (message.pending ? " pending" : "") +
      (message.staff ? " staff" : "");
    if (message.staff) {
      // Written by a person of the welcome centre, not by the assistant.
      const from = document.createElement("p");
      from.className = "from";
      from.textContent = t("from_staff");
      item.appendChild(from);
    } else {
      const who = document.createElement("span");
      who.className = "visually-hidden";
      who.textContent = (message.role === "user" ? t("you") : t("assistant")) + ": ";
      item.appendChild(who);
    }
    if (message.card && message.card.lines && message.card.lines.name) {
      item.appendChild(cardElement(message.card));
    } else {
      const text = document.createElement("p");
      text.className = "text";
      text.dir = textDirection(message.text);
      text.textContent = message.text;
      item.appendChild(text);
    }
    if (message.retry) {
      const retry = button("retry", t("retry"), function () {
        resend(message, item);
      });
      item.appendChild(retry);
    }
    if (showChoices && message.choices && message.choices.length) {
      const choices = document.createElement("div");
      choices.className = "choices";
      message.choices.forEach(function (choice) {
        choices.appendChild(
          button("choice", choice.title, function () {
            send({ payload: choice.payload, shown: choice.title });
          })
        );
      });
      item.appendChild(choices);
    }
    return item;
  }

  // A message's direction by the script most of its letters are in: an Arabic answer that
  // starts with an office's Latin name is still right to left (dir="auto" would look only
  // at the first letter, and pre-line makes each line a paragraph of its own).
  const RTL_LETTER = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/g;
  const LTR_LETTER = /[A-Za-z\u00C0-\u024F\u0370-\u052F]/g;
  function textDirection(text) {
    const rtl = (text.match(RTL_LETTER) || []).length;
    const ltr = (text.match(LTR_LETTER) || []).length;
    return rtl > ltr ? "rtl" : rtl || ltr ? "ltr" : "auto";
  }

  function button(className, label, onClick) {
    const element = document.createElement("button");
    element.type = "button";
    element.className = className;
    element.textContent = label;
    element.addEventListener("click", onClick);
    return element;
  }

  // An office: short first (name, why, open now, address with map, phone to call), the
  // rest behind "More".
  function cardElement(card) {
    const lines = card.lines;
    const article = document.createElement("article");
    article.className = "card";
    article.dir = card.direction || "auto";
    if (card.language) article.lang = card.language;
    const name = document.createElement("h3");
    name.textContent = lines.name;
    article.appendChild(name);
    addLine(article, lines.reasons, "reasons");
    addLine(article, lines.status, "status");
    if (lines.address) {
      const address = addLine(article, lines.address, "address");
      if (lines.map_url) {
        address.appendChild(document.createTextNode(" "));
        address.appendChild(link(lines.map_url, t("map"), true));
      }
    }
    if (lines.phone) {
      const phone = addLine(article, "", "phone");
      if (lines.tel) phone.appendChild(link("tel:" + lines.tel, lines.phone, false));
      else phone.textContent = lines.phone;
    }
    const more = document.createElement("div");
    more.className = "more";
    more.id = "more-" + randomId();
    more.hidden = true;
    addLine(more, lines.only_for, "only-for");
    addLine(more, lines.description, "description");
    addLine(more, lines.hours_note, "hours-note");
    addLine(more, lines.languages, "languages");
    if (lines.url) {
      const url = lines.url.match(/https?:\/\/[^\s\u2066-\u2069]+/);
      const line = addLine(more, url ? "" : lines.url, "url");
      if (url) line.appendChild(link(url[0], lines.url, true));
    }
    if (lines.email) {
      const email = lines.email.match(/[^\s@\u2066-\u2069]+@[^\s@\u2066-\u2069]+/);
      const line = addLine(more, email ? "" : lines.email, "email");
      if (email) line.appendChild(link("mailto:" + email[0], lines.email, false));
    }
    addLine(more, lines.checked, "checked");
    addLine(more, lines.warning, "warning");
    article.appendChild(more);
    const actions = document.createElement("div");
    actions.className = "card-actions";
    if (more.childElementCount) {
      const toggle = button("more-toggle", t("more"), function () {
        more.hidden = !more.hidden;
        toggle.textContent = more.hidden ? t("more") : t("less");
        toggle.setAttribute("aria-expanded", String(!more.hidden));
      });
      toggle.setAttribute("aria-expanded", "false");
      toggle.setAttribute("aria-controls", more.id);
      actions.appendChild(toggle);
    }
    actions.appendChild(
      button("save", t("save"), function () {
        download(lines.name, card.text);
      })
    );
    article.appendChild(actions);
    return article;
  }

  function addLine(parent, text, className) {
    if (text === null || text === undefined) return null;
    const line = document.createElement("p");
    line.className = className;
    line.dir = "auto";
    line.textContent = text;
    parent.appendChild(line);
    return line;
  }

  function link(href, text, newTab) {
    const anchor = document.createElement("a");
    anchor.href = href;
    anchor.textContent = text;
    anchor.dir = "auto";
    if (newTab) {
      anchor.target = "_blank";
      anchor.rel = "noopener noreferrer";
    }
    return anchor;
  }

  function download(name, text) {
    const anchor = document.createElement("a");
    anchor.href = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
    anchor.download = (name || "welcome-desk").replace(/[\\/:*?"<>|]+/g, " ").trim() + ".txt";
    root.appendChild(anchor);
    anchor.click();
    anchor.remove();
    setTimeout(function () {
      URL.revokeObjectURL(anchor.href);
    }, 10000);
  }

  // New assistant messages: shown, kept, and read out once by the one live region.
  function showReplies(replies) {
    if (!replies.length) return;
    let first = null;
    replies.forEach(function (reply) {
      const message = {
        role: "assistant",
        text: reply.text,
        choices: reply.choices || [],
        card: reply.card || null,
        staff: reply.from === "staff",
      };
      state.messages.push(message);
      const item = addItem(messageItem(message, true));
      first = first || item;
    });
    saveState();
    // The answer's start in view, not its end: a long card is read from the top.
    list.scrollTop = first.offsetTop - 8; // the list is the items' offsetParent
    announce(
      replies
        .map(function (reply) {
          if (reply.card && reply.card.lines) return shortCardText(reply.card.lines);
          return reply.from === "staff" ? t("from_staff") + ": " + reply.text : reply.text;
        })
        .join("\n")
    );
  }

  function shortCardText(lines) {
    return [lines.name, lines.reasons, lines.status, lines.address, lines.phone]
      .filter(Boolean)
      .join("\n");
  }

  function showProblem(text, retryMessage) {
    const message = { role: "error", text: text, retry: retryMessage || null };
    state.messages.push(message);
    saveState();
    addItem(messageItem(message));
    list.scrollTop = list.scrollHeight;
    announce(text);
  }

  function announce(text) {
    live.textContent = "";
    // A fresh text node a moment later: screen readers announce it once.
    setTimeout(function () {
      live.textContent = text;
    }, 100);
  }

  function setNotice(text) {
    notice.hidden = !text;
    notice.textContent = text || "";
  }

  // ---- sending: one message at a time, resent with the same id until it is answered ------

  function send(message) {
    const pending = {
      id: randomId(),
      shown: message.shown,
      text: message.text,
      payload: message.payload,
      location: message.location,
    };
    state.outbox.push(pending);
    // The buttons of earlier answers are done with.
    state.messages.forEach(function (old) {
      old.choices = [];
    });
    list.querySelectorAll(".choices").forEach(function (choices) {
      choices.remove();
    });
    saveState();
    list.appendChild(pendingItem(pending));
    typing.hidden = false;
    list.scrollTop = list.scrollHeight;
    input.focus();
    pump();
  }

  function resend(failed, item) {
    state.messages = state.messages.filter(function (message) {
      return message !== failed;
    });
    item.remove();
    send(failed.retry); // with a new id: the first try got a clear "not available"
  }

  async function pump() {
    if (sending || !state.outbox.length) return;
    sending = true;
    clearTimeout(retryTimer);
    const pending = state.outbox[0];
    let outcome;
    try {
      outcome = await post(pending);
    } catch (error) {
      outcome = { kind: "network" };
    }
    sending = false;
    if (outcome.kind === "network") {
      setNotice(t("offline"));
      if (!notice.dataset.announced) {
        notice.dataset.announced = "1";
        announce(t("offline"));
      }
      retryTimer = setTimeout(pump, outcome.wait || 3000);
      return;
    }
    setNotice("");
    delete notice.dataset.announced;
    state.outbox.shift();
    state.messages.push({ role: "user", text: pending.shown });
    const item = list.querySelector('.pending[data-id="' + pending.id + '"]');
    if (item) item.classList.remove("pending");
    typing.hidden = state.outbox.length === 0;
    saveState();
    if (outcome.kind === "answered") {
      if (pending.language) state.hintSent = true;
      showReplies(outcome.replies);
    } else if (outcome.kind === "unavailable" || outcome.kind === "rate_limited") {
      showProblem(t(outcome.kind), {
        shown: pending.shown,
        text: pending.text,
        payload: pending.payload,
        location: pending.location,
      });
    } else {
      showProblem(outcome.code === "too_long" ? t("too_long") : t("refused"));
    }
    pump();
  }

  async function post(pending) {
    const body = { conversation: state.conversation, id: pending.id };
    if (pending.payload) body.payload = pending.payload;
    else if (pending.text) body.text = pending.text;
    if (pending.location) body.location = pending.location;
    if (CITY) body.city = CITY;
    // A button as the very first message has no words to tell the language by: the
    // widget's own language (the browser's) is the hint then.
    const picked = state.picked && state.picked !== "auto" ? state.picked : null;
    const firstButton = pending.payload && !state.messages.length && ui ? ui.language : null;
    if ((picked || firstButton) && !state.hintSent) {
      body.language = picked || firstButton;
      pending.language = body.language;
    }
    const controller = new AbortController();
    const timer = setTimeout(function () {
      controller.abort();
    }, REQUEST_TIMEOUT_MS);
    try {
      const response = await fetch(API + "/messages", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
        signal: controller.signal,
      });
      const answer = await response.json().catch(function () {
        return {};
      });
      if (response.ok) return { kind: "answered", replies: answer.replies || [] };
      if (response.status === 503) return { kind: "unavailable" };
      // Too many messages in a minute: the user may send this one again a little later.
      if (response.status === 429) return { kind: "rate_limited" };
      // Larger than the web app takes (it answers before reading the body).
      if (response.status === 413) return { kind: "refused", code: "too_long" };
      if (response.status >= 500) return { kind: "network", wait: 5000 };
      return { kind: "refused", code: answer.code };
    } finally {
      clearTimeout(timer);
    }
  }

  window.addEventListener("online", function () {
    pump();
    connectEvents();
  });

  // ---- messages pushed later (a member of staff answering): server-sent events ----------

  function connectEvents() {
    if (!state.open && !state.messages.length) return;
    if (events && events.readyState !== EventSource.CLOSED) {
      if (events.conversation === state.conversation) return;
      events.close();
    }
    const url =
      API + "/events?conversation=" + encodeURIComponent(state.conversation) +
      "&after=" + encodeURIComponent(state.lastEventId || 0);
    events = new EventSource(url);
    events.conversation = state.conversation;
    events.addEventListener("replies", function (event) {
      if (events.conversation !== state.conversation) return;
      state.lastEventId = Number(event.lastEventId) || state.lastEventId;
      showReplies(JSON.parse(event.data).replies || []);
    });
    events.onerror = function () {
      // EventSource retries by itself unless the server refused; then try again later.
      if (events.readyState === EventSource.CLOSED) setTimeout(connectEvents, 5000);
    };
  }

  // ---- opening, closing, the tools ---------------------------------------------------------

  function setOpen(open, moveFocus) {
    state.open = open;
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    host.classList.toggle("open", open);
    saveState();
    if (open) {
      connectEvents();
      if (moveFocus) input.focus();
      list.scrollTop = list.scrollHeight;
    } else if (moveFocus) {
      launcher.focus();
    }
  }

  launcher.addEventListener("click", function () {
    setOpen(!state.open, true);
  });
  $(".close").addEventListener("click", function () {
    setOpen(false, true);
  });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      setOpen(false, true);
    }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    if (Array.from(text).length > ui.max_message_chars) {
      setNotice(t("too_long"));
      announce(t("too_long"));
      return; // the text stays in the field, to be shortened
    }
    setNotice("");
    input.value = "";
    send({ text: text, shown: text });
  });

  select.addEventListener("change", function () {
    state.picked = select.value;
    state.hintSent = false;
    saveState();
    loadTexts().then(function () {
      select.focus();
    });
  });

  $(".start-over").addEventListener("click", function () {
    const open = state.open;
    Object.assign(state, freshState(state.picked), { open: open });
    clearTimeout(retryTimer);
    setNotice("");
    saveState();
    renderMessages();
    connectEvents();
    input.focus();
  });

  $(".print").addEventListener("click", printConversation);

  // Hands the conversation to the welcome centre's staff (the assistant's `request_human`).
  $(".person").addEventListener("click", function () {
    send({ payload: "/request_human", shown: t("person") });
  });

  locate.addEventListener("click", function () {
    navigator.geolocation.getCurrentPosition(
      function (position) {
        send({
          shown: "📍 " + t("my_location"),
          location: {
            latitude: position.coords.latitude,
            longitude: position.coords.longitude,
          },
        });
      },
      function () {
        setNotice(t("location_unavailable"));
        announce(t("location_unavailable"));
      },
      { enableHighAccuracy: false, timeout: 10000, maximumAge: 600000 }
    );
  });

  // The conversation as a plain page in a hidden frame: the city's page and its print
  // styles stay out of it.
  function printConversation() {
    const frame = document.createElement("iframe");
    frame.className = "print-frame";
    frame.setAttribute("aria-hidden", "true");
    frame.tabIndex = -1;
    const escape = function (text) {
      const element = document.createElement("div");
      element.textContent = text;
      return element.innerHTML;
    };
    const body = state.messages
      .map(function (message) {
        const assistant = message.staff ? t("from_staff") : t("assistant");
        const who = message.role === "user" ? t("you") : assistant;
        return '<section dir="auto"><h2>' + escape(who) + "</h2><p>" +
          escape(message.text) + "</p></section>";
      })
      .join("");
    frame.srcdoc =
      '<!doctype html><html lang="' + ui.language + '" dir="' + ui.direction + '"><head>' +
      '<meta charset="utf-8"><title>' + escape(t("title")) + "</title><style>" +
      "body{font:12pt/1.45 system-ui,sans-serif;margin:1.5cm}h1{font-size:16pt}" +
      "h2{font-size:10pt;margin:1em 0 0;color:#444}p{white-space:pre-line;margin:.2em 0}" +
      "section{break-inside:avoid}</style></head><body><h1>" + escape(t("title")) +
      "</h1>" + body + "</body></html>";
    frame.addEventListener("load", function () {
      frame.contentWindow.focus();
      frame.contentWindow.print();
      setTimeout(function () {
        frame.remove();
      }, 1000);
    });
    root.appendChild(frame);
  }

  loadTexts().then(function () {
    pump(); // what was still unsent when the page was left
  });
})();
