// Lead Copilot web inbox: live updates by server-sent events (polling only where
// EventSource is missing or refused), keyboard shortcuts, drafts kept across reloads.
// Small on purpose: every page works without it (forms post and redirect).
(function () {
  "use strict";
  var POLL_MS = Number(document.documentElement.dataset.pollMs || 4000);
  var refreshers = [];   // {run, wants(change)}
  var pollTimer = null;

  // One refresher runs once at a time; a call while it runs queues one more run.
  function live(run, wants) {
    var busy = false, again = false;
    function go() {
      if (busy) { again = true; return; }
      busy = true;
      run().catch(function () {}).then(function () {
        busy = false;
        if (again) { again = false; go(); }
      });
    }
    refreshers.push({ run: go, wants: wants });
  }

  function refreshAll() { refreshers.forEach(function (r) { r.run(); }); }

  function startPolling() {
    if (pollTimer) return;
    pollTimer = setInterval(function () { if (!document.hidden) refreshAll(); }, POLL_MS);
  }

  function startEvents() {
    if (!window.EventSource || !refreshers.length) { if (refreshers.length) startPolling(); return; }
    var source = new EventSource("/events");
    // Connected (again): catch up on whatever happened before the stream began.
    source.addEventListener("ready", refreshAll);
    source.addEventListener("conversation", function (ev) {
      var change;
      try { change = JSON.parse(ev.data); } catch (e) { return; }
      refreshers.forEach(function (r) { if (r.wants(change)) r.run(); });
      notify(change);
    });
    source.addEventListener("error", function () {
      // Closed for good (signed out, refused): fall back to polling.
      if (source.readyState === 2) startPolling();
    });
    document.addEventListener("visibilitychange", function () { if (!document.hidden) refreshAll(); });
  }

  // --- notifications and sound -------------------------------------------------------
  var texts = {};
  var told = {};
  function loadTexts() {
    var node = document.getElementById("live-text");
    if (node) { try { texts = JSON.parse(node.textContent); } catch (e) { texts = {}; } }
  }

  function toast(text) {
    var box = document.getElementById("toast");
    if (!box) return;
    box.textContent = text;
    box.classList.remove("hidden");
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { box.classList.add("hidden"); }, 4000);
  }

  function soundOn() {
    try { return localStorage.getItem("lc-sound") !== "off"; } catch (e) { return true; }
  }

  function beep() {
    if (!soundOn()) return;
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    try {
      var ctx = beep.ctx || (beep.ctx = new Ctx());
      var osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.frequency.value = 880;
      gain.gain.value = 0.05;
      osc.connect(gain); gain.connect(ctx.destination);
      osc.start(); osc.stop(ctx.currentTime + 0.12);
    } catch (e) { /* the browser may refuse sound before a click */ }
  }

  // A new message in one's own conversation, or a new handoff in one's team,
  // while one is not looking at that conversation.
  function notify(change) {
    var body = document.body;
    var conv = document.getElementById("conversation");
    if (conv && String(change.id) === conv.dataset.cid && !document.hidden) return;
    var text = null;
    if (change.inbound && String(change.owner_id) === body.dataset.me) {
      text = texts.message;
    } else if (change.handoff && change.kinds.indexOf("analysis") >= 0 && body.dataset.team &&
               change.team === body.dataset.team && !told["h" + change.id]) {
      told["h" + change.id] = true;
      text = texts.handoff;
    }
    if (!text) return;
    text = text.replace("{name}", change.contact || "");
    toast(text);
    beep();
    if (document.hidden && window.Notification && Notification.permission === "granted") {
      try { new Notification(text); } catch (e) { /* some browsers only allow it from a worker */ }
    }
  }

  function liveControls() {
    var ask = document.getElementById("notify-btn");
    if (ask && window.Notification && Notification.permission === "default") {
      ask.classList.remove("hidden");
      ask.addEventListener("click", function () {
        Notification.requestPermission().then(function () { ask.classList.add("hidden"); });
      });
    }
    var sound = document.getElementById("sound-btn");
    if (!sound) return;
    function show() {
      var on = soundOn();
      sound.textContent = on ? sound.dataset.on : sound.dataset.off;
      sound.setAttribute("aria-label", sound.textContent);
      sound.setAttribute("aria-pressed", on ? "true" : "false");
    }
    show();
    sound.addEventListener("click", function () {
      try { localStorage.setItem("lc-sound", soundOn() ? "off" : "on"); } catch (e) { /* private mode */ }
      show();
    });
  }

  // The list: refresh the rows when they change (the server answers 304 otherwise).
  function liveList(tbody) {
    var etag = null;
    live(function () {
      var headers = { "X-Requested-With": "fetch" };
      if (etag) headers["If-None-Match"] = etag;
      return fetch(tbody.dataset.liveUrl, { credentials: "same-origin", headers: headers })
        .then(function (r) {
          if (r.status === 401) { window.location.reload(); return null; }
          if (r.status !== 200) return null;
          etag = r.headers.get("ETag");
          var unread = r.headers.get("X-Unread");
          if (unread !== null) setUnread(Number(unread));
          return r.text();
        })
        .then(function (html) {
          if (html === null || html === undefined) return;
          tbody.innerHTML = html;
          markSelected();
        });
    }, function () { return true; });
  }

  // The split view: the open conversation stays marked in the refreshed list.
  var kbdId = null;   // the row j/k moved to, kept when the list refreshes
  function markSelected() {
    var conv = document.getElementById("conversation");
    var row = conv && document.querySelector('#rows li.card-row[data-id="' + conv.dataset.cid + '"]');
    if (row) row.classList.add("selected");
    var moved = kbdId && document.querySelector('#rows li.card-row[data-id="' + kbdId + '"]');
    if (moved) {
      moved.classList.add("kbd");
      if (document.activeElement === document.body) moved.querySelector("a").focus();
    }
  }

  // The tab title starts with the number of one's unread conversations.
  function setUnread(count) {
    var title = document.title.replace(/^\(\d+\) /, "");
    document.title = (count > 0 ? "(" + count + ") " : "") + title;
  }

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  // Ctrl/Cmd+Enter sends from a reply box: the free text is sent as is; the
  // suggestion is accepted, or sent edited when the agent changed it.
  function sendFrom(area) {
    var form = area.form;
    if (!form || !form.classList.contains("reply-form")) return false;
    var button;
    if (form.id === "suggestion-form") {
      var edited = area.value !== area.defaultValue;
      button = form.querySelector('button[value="' + (edited ? "edit" : "accept") + '"]');
    } else {
      button = form.querySelector('button[value="send"]');
    }
    if (!button || button.disabled) return false;
    if (form.requestSubmit) form.requestSubmit(button); else button.click();
    return true;
  }

  function moveInList(step) {
    var rows = Array.prototype.slice.call(document.querySelectorAll("#rows li.card-row"));
    if (!rows.length) return;
    var at = rows.findIndex(function (r) { return r.classList.contains("kbd"); });
    if (at < 0) at = rows.findIndex(function (r) { return r.classList.contains("selected"); });
    var next = at < 0 ? (step > 0 ? 0 : rows.length - 1) : Math.min(rows.length - 1, Math.max(0, at + step));
    rows.forEach(function (r) { r.classList.remove("kbd"); });
    rows[next].classList.add("kbd");
    kbdId = rows[next].dataset.id;
    var link = rows[next].querySelector("a");
    if (link) link.focus();
  }

  function drawer(open) {
    var side = document.getElementById("side");
    var toggle = document.getElementById("drawer-toggle");
    if (!side || !toggle) return;
    side.classList.toggle("open", open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) { var first = side.querySelector("button, a, select, input, textarea"); if (first) first.focus(); }
    else toggle.focus();
  }

  function keyboard() {
    var help = document.getElementById("shortcuts");
    document.addEventListener("keydown", function (ev) {
      var t = ev.target;
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey) && t && t.tagName === "TEXTAREA") {
        if (sendFrom(t)) ev.preventDefault();
        return;
      }
      if (ev.key === "Escape") {
        var side = document.getElementById("side");
        if (side && side.classList.contains("open")) { drawer(false); ev.preventDefault(); return; }
        if (t && t.tagName === "TEXTAREA" && t.form && t.form.id === "suggestion-form") {
          t.value = t.defaultValue;  // cancel the edit: back to the suggestion
        }
        if (typing(t)) t.blur();
        return;
      }
      if (typing(t) || ev.ctrlKey || ev.metaKey || ev.altKey) return;
      if (ev.key === "j") { moveInList(1); ev.preventDefault(); }
      else if (ev.key === "k") { moveInList(-1); ev.preventDefault(); }
      else if (ev.key === "/") {
        var search = document.getElementById("search");
        if (search) { search.focus(); ev.preventDefault(); }
      } else if (ev.key === "?" && help && help.showModal) { help.showModal(); ev.preventDefault(); }
    });
    var toggle = document.getElementById("drawer-toggle");
    if (toggle) toggle.addEventListener("click", function () {
      drawer(!document.getElementById("side").classList.contains("open"));
    });
    var close = document.getElementById("drawer-close");
    if (close) close.addEventListener("click", function () { drawer(false); });
  }

  // The conversation: poll a small fingerprint; on a change swap the chat in and
  // tell the agent (the reply forms keep their last-seen id: the server refuses a
  // reply based on a stale view, so the agent reloads on purpose).
  function liveConversation(root) {
    var chatbox = document.getElementById("chatbox");
    var chat = document.getElementById("chat");
    var owner = document.getElementById("owner-line");
    var pageSeq = Number(chat ? chat.dataset.seq : 0);   // what the reply forms are based on
    var pageOwner = owner ? owner.dataset.assignee : "";
    var shownSeq = pageSeq;
    var shownOwner = pageOwner;
    var version = null;
    var panelsDue = false;
    function get(url) {
      return fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } });
    }
    live(function () {
      return get(root.dataset.liveUrl)
        .then(function (r) { return r.status === 200 ? r.json() : null; })
        .then(function (state) {
          if (!state) return null;
          var newOwner = state.assignee_id === null ? "" : String(state.assignee_id);
          var changed = state.seq !== shownSeq || newOwner !== shownOwner ||
            (version !== null && state.version !== version);
          version = state.version;
          var panels = panelsDue || changed;
          panelsDue = false;
          var steps = [];
          if (changed) {
            if (state.seq > pageSeq) document.getElementById("live-new").classList.remove("hidden");
            if (newOwner !== pageOwner) document.getElementById("live-owner").classList.remove("hidden");
            steps.push(get(root.dataset.chatUrl)
              .then(function (r) { return r.status === 200 ? r.text() : null; })
              .then(function (html) {
                if (!html) return;
                chatbox.innerHTML = html;
                shownSeq = state.seq;
                shownOwner = newOwner;
                var list = document.getElementById("chat");
                if (list) list.scrollTop = list.scrollHeight;
              }));
          }
          if (panels) steps.push(refreshPanels());
          return Promise.all(steps);
        });
    }, function (change) {
      if (String(change.id) !== root.dataset.cid) return false;
      if (change.kinds.indexOf("analysis") >= 0 || change.kinds.indexOf("suggestion") >= 0) panelsDue = true;
      return true;
    });
  }

  // The analysis panel, and the suggestion unless the agent is working on it,
  // come fresh from the page itself (the same access-checked route).
  function refreshPanels() {
    return fetch(window.location.pathname, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { return r.status === 200 ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var changed = false;
        var oldAn = document.querySelector("section.analysis");
        var newAn = fresh.querySelector("section.analysis");
        if (oldAn && newAn && oldAn.innerHTML !== newAn.innerHTML) {
          oldAn.innerHTML = newAn.innerHTML;
          changed = true;
        }
        var oldSug = document.querySelector("section.suggestion");
        var newSug = fresh.querySelector("section.suggestion");
        var area = oldSug && oldSug.querySelector("textarea");
        var untouched = !area || (area.value === area.defaultValue && document.activeElement !== area);
        if (oldSug && newSug && untouched && oldSug.innerHTML !== newSug.innerHTML) {
          oldSug.innerHTML = newSug.innerHTML;
          changed = true;
        }
        if (changed && texts.panels) toast(texts.panels);
      });
  }

  // Quick replies: "/" and part of a shortcut in the reply box lists them;
  // arrows move, Enter or Tab inserts, Esc closes.
  function quickReplies() {
    var node = document.getElementById("quick-replies");
    var menu = document.getElementById("qr-menu");
    var area = document.querySelector("#reply-form textarea");
    if (!node || !menu || !area) return;
    var all;
    try { all = JSON.parse(node.textContent); } catch (e) { return; }
    if (!all.length) return;
    var shown = [], at = 0, start = -1;
    function fold(t) { return t.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase(); }
    function close() { menu.classList.add("hidden"); menu.textContent = ""; shown = []; start = -1; }
    function draw() {
      menu.textContent = "";
      shown.forEach(function (q, i) {
        var item = document.createElement("div");
        item.setAttribute("role", "option");
        item.id = "qr-" + i;
        item.setAttribute("aria-selected", i === at ? "true" : "false");
        var title = document.createElement("strong");
        title.textContent = "/" + q.shortcut;
        var text = document.createElement("small");
        text.textContent = q.text;
        item.appendChild(title); item.appendChild(text);
        item.addEventListener("mousedown", function (ev) { ev.preventDefault(); pick(i); });
        menu.appendChild(item);
      });
      menu.classList.toggle("hidden", !shown.length);
      if (shown.length) area.setAttribute("aria-activedescendant", "qr-" + at);
      else area.removeAttribute("aria-activedescendant");
    }
    function pick(i) {
      var q = shown[i];
      if (!q) return;
      var caret = area.selectionStart;
      area.value = area.value.slice(0, start) + q.text + area.value.slice(caret);
      var end = start + q.text.length;
      area.setSelectionRange(end, end);
      area.dispatchEvent(new Event("input"));
      close();
      area.focus();
    }
    area.addEventListener("input", function () {
      var before = area.value.slice(0, area.selectionStart);
      var m = /(^|\s)\/([^\s\/]*)$/.exec(before);
      if (!m) { close(); return; }
      start = before.length - m[2].length - 1;
      var term = fold(m[2]);
      shown = all.filter(function (q) {
        return fold(q.shortcut).indexOf(term) === 0 || (term && fold(q.text).indexOf(term) >= 0);
      }).slice(0, 8);
      at = 0;
      draw();
    });
    area.addEventListener("keydown", function (ev) {
      if (!shown.length) return;
      if (ev.key === "ArrowDown") { at = (at + 1) % shown.length; draw(); ev.preventDefault(); }
      else if (ev.key === "ArrowUp") { at = (at + shown.length - 1) % shown.length; draw(); ev.preventDefault(); }
      else if ((ev.key === "Enter" && !ev.ctrlKey && !ev.metaKey) || ev.key === "Tab") { pick(at); ev.preventDefault(); }
      else if (ev.key === "Escape") { close(); ev.stopPropagation(); ev.preventDefault(); }
    });
    area.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  // Images open in a lightbox (a dialog: Esc closes it); without script the link opens the image.
  function lightbox() {
    var box = document.getElementById("lightbox");
    if (!box || !box.showModal) return;
    document.addEventListener("click", function (ev) {
      var link = ev.target.closest && ev.target.closest("a[data-lightbox]");
      if (!link) return;
      ev.preventDefault();
      var img = box.querySelector("img");
      img.src = link.href;
      img.alt = (link.querySelector("img") || {}).alt || "";
      box.showModal();
    });
  }

  // Drafts survive a reload (kept per conversation in sessionStorage; cleared on send).
  function drafts() {
    var forms = document.querySelectorAll("form[data-draft-key]");
    Array.prototype.forEach.call(forms, function (form) {
      var key = form.dataset.draftKey;
      var area = form.querySelector("textarea");
      if (!area || !window.sessionStorage) return;
      var saved = sessionStorage.getItem(key);
      if (saved && !document.getElementById("notice") && !area.disabled) area.value = saved;
      area.addEventListener("input", function () { sessionStorage.setItem(key, area.value); });
      form.addEventListener("submit", function () { sessionStorage.removeItem(key); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var chat = document.getElementById("chat");
    if (chat) chat.scrollTop = chat.scrollHeight;
    var rows = document.getElementById("rows");
    if (rows && rows.dataset.liveUrl) liveList(rows);
    var conv = document.getElementById("conversation");
    if (conv) liveConversation(conv);
    drafts();
    keyboard();
    markSelected();
    loadTexts();
    liveControls();
    quickReplies();
    lightbox();
    startEvents();
  });
})();
