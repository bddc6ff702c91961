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
          return r.text();
        })
        .then(function (html) { if (html !== null && html !== undefined) tbody.innerHTML = html; });
    });
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
  });
})();
