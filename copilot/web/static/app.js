// Lead Copilot web inbox: live updates by polling, and drafts kept across reloads.
// Small on purpose: every page works without it (forms post and redirect).
(function () {
  "use strict";
  var POLL_MS = Number(document.documentElement.dataset.pollMs || 4000);

  function poll(fn) {
    var busy = false;
    setInterval(function () {
      if (busy || document.hidden) return;
      busy = true;
      fn().catch(function () {}).then(function () { busy = false; });
    }, POLL_MS);
  }

  // The list: refresh the rows when they change (the server answers 304 otherwise).
  function liveList(tbody) {
    var etag = null;
    poll(function () {
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
    });
  }

  // The split view: the open conversation stays marked in the refreshed list.
  function markSelected() {
    var conv = document.getElementById("conversation");
    if (!conv) return;
    var row = document.querySelector('#rows li.card-row[data-id="' + conv.dataset.cid + '"]');
    if (row) row.classList.add("selected");
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
    poll(function () {
      return fetch(root.dataset.liveUrl, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (r) { return r.status === 200 ? r.json() : null; })
        .then(function (state) {
          if (!state) return null;
          var newOwner = state.assignee_id === null ? "" : String(state.assignee_id);
          var changed = state.seq !== shownSeq || newOwner !== shownOwner ||
            (version !== null && state.version !== version);
          version = state.version;
          if (!changed) return null;
          if (state.seq > pageSeq) document.getElementById("live-new").classList.remove("hidden");
          if (newOwner !== pageOwner) document.getElementById("live-owner").classList.remove("hidden");
          return fetch(root.dataset.chatUrl, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
            .then(function (r) { return r.status === 200 ? r.text() : null; })
            .then(function (html) {
              if (!html) return;
              chatbox.innerHTML = html;
              shownSeq = state.seq;
              shownOwner = newOwner;
              var list = document.getElementById("chat");
              if (list) list.scrollTop = list.scrollHeight;
            });
        });
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
  });
})();
