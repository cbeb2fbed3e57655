/* The dependency graph page: zoom, pan, find (no library, no build step).
 *
 * Without this script the picture still shows: the SVG scales itself down to the box's
 * width and the box scrolls. With it:
 * - the toolbar's buttons zoom out, zoom in, fit the width (the start) or show the whole
 *   picture; Ctrl (or Cmd) + wheel zooms around the pointer; "+", "-" and "0" in the box;
 * - dragging the picture moves it (a drag never follows the link it started on);
 * - a link to a box ("#node-…": the side list, the ↑/↓ ids in the boxes) brings the box
 *   into the middle of the view and makes it blink;
 * - hovering or focusing a box highlights its arrows;
 * - "Find" filters the side list.
 */
(function () {
  "use strict";

  var box = document.getElementById("graph");
  var svg = box && box.querySelector("svg.dependency-graph");
  if (!svg) return;
  var toolbar = document.getElementById("graph-toolbar");
  var level = document.getElementById("graph-zoom-level");
  var naturalWidth = svg.viewBox.baseVal.width;
  var naturalHeight = svg.viewBox.baseVal.height;
  var MIN_SCALE = 0.05;
  var MAX_SCALE = 4;
  var STEP = 1.25;
  var scale = 1;
  var atFit = true;

  function fitScale() {
    return Math.min(1, box.clientWidth / naturalWidth);
  }

  function wholeScale() {
    return Math.min(fitScale(), box.clientHeight / naturalHeight);
  }

  /* Draw at ``next`` times the natural size, keeping the picture's point under (x, y) of
   * the box (default: its middle) where it is. */
  function zoomTo(next, x, y) {
    next = Math.max(MIN_SCALE, Math.min(MAX_SCALE, next));
    if (x === undefined) {
      x = box.clientWidth / 2;
      y = box.clientHeight / 2;
    }
    var pictureX = (box.scrollLeft + x) / scale;
    var pictureY = (box.scrollTop + y) / scale;
    scale = next;
    svg.style.maxWidth = "none";
    svg.style.width = naturalWidth * scale + "px";
    svg.style.height = naturalHeight * scale + "px";
    box.scrollLeft = pictureX * scale - x;
    box.scrollTop = pictureY * scale - y;
    level.textContent = Math.round(scale * 100) + " %";
    box.setAttribute("data-scale", scale.toFixed(3));
    atFit = false;
  }

  function fitWidth() {
    zoomTo(fitScale(), 0, 0);
    box.scrollLeft = 0;
    atFit = true;
  }

  var actions = {
    in: function () { zoomTo(scale * STEP); },
    out: function () { zoomTo(scale / STEP); },
    fit: fitWidth,
    all: function () { zoomTo(wholeScale(), 0, 0); box.scrollLeft = 0; box.scrollTop = 0; }
  };

  toolbar.hidden = false;
  toolbar.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-zoom]");
    if (button) actions[button.getAttribute("data-zoom")]();
  });
  box.addEventListener("keydown", function (event) {
    if (event.target !== box || event.ctrlKey || event.metaKey || event.altKey) return;
    var action = { "+": "in", "=": "in", "-": "out", "0": "fit" }[event.key];
    if (action) {
      event.preventDefault();
      actions[action]();
    }
  });
  box.addEventListener("wheel", function (event) {
    if (!event.ctrlKey && !event.metaKey) return; // a plain wheel scrolls
    event.preventDefault();
    var rect = box.getBoundingClientRect();
    zoomTo(event.deltaY < 0 ? scale * STEP : scale / STEP,
           event.clientX - rect.left, event.clientY - rect.top);
  }, { passive: false });
  window.addEventListener("resize", function () {
    if (atFit) fitWidth();
  });

  // Dragging moves the picture; a click that ends a drag is not a click.
  var drag = null;
  var dragged = false;
  box.addEventListener("dragstart", function (event) { event.preventDefault(); });
  box.addEventListener("pointerdown", function (event) {
    if (event.button !== 0 || event.pointerType === "touch") return; // touch scrolls natively
    drag = { x: event.clientX, y: event.clientY, left: box.scrollLeft, top: box.scrollTop,
             pointer: event.pointerId };
    dragged = false;
  });
  box.addEventListener("pointermove", function (event) {
    if (!drag) return;
    var dx = event.clientX - drag.x;
    var dy = event.clientY - drag.y;
    if (!dragged && Math.abs(dx) + Math.abs(dy) < 5) return;
    if (!dragged) {
      dragged = true;
      box.setPointerCapture(drag.pointer);
      box.classList.add("dragging");
    }
    box.scrollLeft = drag.left - dx;
    box.scrollTop = drag.top - dy;
  });
  function endDrag() {
    drag = null;
    box.classList.remove("dragging");
  }
  box.addEventListener("pointerup", endDrag);
  box.addEventListener("pointercancel", endDrag);
  box.addEventListener("click", function (event) {
    if (dragged) {
      event.preventDefault();
      event.stopPropagation();
      dragged = false;
    }
  }, true);

  // Links to a box: bring it into view.
  function show(node) {
    if (scale < 0.6 * fitScale()) zoomTo(fitScale());
    var target = node.getBoundingClientRect();
    var frame = box.getBoundingClientRect();
    box.scrollLeft += target.left + target.width / 2 - (frame.left + box.clientWidth / 2);
    box.scrollTop += target.top + target.height / 2 - (frame.top + box.clientHeight / 2);
    box.scrollIntoView({ block: "nearest" });
    var found = svg.querySelectorAll(".node.found");
    for (var i = 0; i < found.length; i++) found[i].classList.remove("found");
    node.classList.add("found");
    var link = node.querySelector("a");
    if (link) link.focus({ preventScroll: true });
  }
  function nodeFor(hash) {
    if (!hash || hash.indexOf("#node-") !== 0) return null;
    var node = document.getElementById(decodeURIComponent(hash.slice(1)));
    return node && svg.contains(node) ? node : null;
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest('a[href^="#node-"]');
    var node = link && nodeFor(link.getAttribute("href"));
    if (!node) return;
    event.preventDefault();
    history.replaceState(null, "", link.getAttribute("href"));
    show(node);
  });

  // Hovering or focusing a box highlights its arrows.
  var edgesOf = {};
  var edges = svg.querySelectorAll(".edge");
  for (var e = 0; e < edges.length; e++) {
    [edges[e].getAttribute("data-from"), edges[e].getAttribute("data-to")].forEach(function (id) {
      (edgesOf[id] = edgesOf[id] || []).push(edges[e]);
    });
  }
  var lit = [];
  function trace(event) {
    var node = event.target.closest && event.target.closest(".node");
    lit.forEach(function (edge) { edge.classList.remove("lit"); });
    lit = node ? edgesOf[node.getAttribute("data-id")] || [] : [];
    lit.forEach(function (edge) { edge.classList.add("lit"); });
    svg.classList.toggle("tracing", lit.length > 0);
  }
  svg.addEventListener("mouseover", trace);
  svg.addEventListener("focusin", trace);
  svg.addEventListener("mouseleave", trace);

  // Find: filter the side list by id or title.
  var findField = document.getElementById("graph-find-field");
  var find = document.getElementById("graph-find");
  if (find) {
    findField.hidden = false;
    var entries = document.querySelectorAll("#graph-items li[data-id]");
    find.addEventListener("input", function () {
      var words = find.value.toLowerCase().split(/\s+/).filter(Boolean);
      for (var i = 0; i < entries.length; i++) {
        var text = entries[i].textContent.toLowerCase();
        entries[i].hidden = !words.every(function (word) { return text.indexOf(word) !== -1; });
      }
      var lanes = document.querySelectorAll("#graph-items details");
      for (var j = 0; j < lanes.length; j++) {
        lanes[j].hidden = !lanes[j].querySelector("li[data-id]:not([hidden])");
      }
    });
  }

  // A picture taller than the box keeps the box's height when zoomed out (no jumping page).
  if (naturalHeight * fitScale() > box.clientHeight) box.classList.add("tall");
  fitWidth();
  var start = nodeFor(location.hash);
  if (start) show(start);
})();
