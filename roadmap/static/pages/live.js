/* Live progress pages: poll the page's fragment (?live=1) and swap in what changed.
 *
 * The page says where and how often in the #live-status element's data attributes:
 * data-live-src (the fragment URL, the page's own filters included), data-live-version
 * (the ETag the page was rendered with) and data-live-interval (milliseconds). Each poll
 * sends If-None-Match, so an unchanged page costs the server one small query and a 304.
 * Each element with data-live="name" is replaced by its namesake in the answer; open
 * <details>, the focused element and the scroll position are kept. Polling pauses while
 * the tab is hidden. Without JavaScript the pages are the same, only not live.
 */
(function () {
  "use strict";
  var status = document.getElementById("live-status");
  if (!status || !window.fetch || !window.DOMParser) return;
  var src = status.dataset.liveSrc;
  var etag = status.dataset.liveVersion;
  var interval = Math.max(250, Number(status.dataset.liveInterval) || 4000);
  var timer = null;
  var busy = false;
  // What tests and curious people can read: how many polls ran and how many changed the page.
  var live = (window.motusLive = { polls: 0, updates: 0, loadedAt: Date.now() });

  function key(element) {
    // How to find an element again in the new content: its id, else a link's href.
    if (element.id) return "#" + CSS.escape(element.id);
    if (element.getAttribute("href")) return 'a[href="' + CSS.escape(element.getAttribute("href")) + '"]';
    return null;
  }

  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    var focused = document.activeElement;
    var scrollX = window.scrollX, scrollY = window.scrollY;
    var changed = false;
    document.querySelectorAll("[data-live]").forEach(function (old) {
      var next = fresh.querySelector('[data-live="' + old.dataset.live + '"]');
      if (!next || next.innerHTML === old.innerHTML) return;
      var open = Array.prototype.map.call(old.querySelectorAll("details[open][id]"), function (d) { return d.id; });
      var closed = Array.prototype.map.call(old.querySelectorAll("details[id]:not([open])"), function (d) { return d.id; });
      var focusKey = old.contains(focused) ? key(focused) : null;
      open.forEach(function (id) { var d = next.querySelector("#" + CSS.escape(id)); if (d) d.open = true; });
      closed.forEach(function (id) { var d = next.querySelector("#" + CSS.escape(id)); if (d) d.open = false; });
      var adopted = document.importNode(next, true);
      old.replaceWith(adopted);
      if (focusKey) {
        var again = adopted.querySelector(focusKey);
        if (again) again.focus({ preventScroll: true });
      }
      changed = true;
    });
    window.scrollTo(scrollX, scrollY);
    if (changed) {
      live.updates += 1;
      status.textContent = "Live: updated " + new Date().toLocaleTimeString() + "; this page updates by itself.";
    }
  }

  function poll() {
    timer = null;
    if (document.hidden || busy) return schedule();
    busy = true;
    live.polls += 1;
    fetch(src, { headers: { "If-None-Match": etag }, cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 304 || !response.ok) return null;
        etag = response.headers.get("ETag") || etag;
        return response.text();
      })
      .then(function (html) { if (html) swap(html); })
      .catch(function () { /* offline or restarting: try again at the next tick */ })
      .then(function () { busy = false; schedule(); });
  }

  function schedule() {
    if (timer === null) timer = window.setTimeout(poll, interval);
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && timer !== null) {
      window.clearTimeout(timer);
      timer = null;
      poll();
    }
  });
  status.hidden = false;
  schedule();
})();
