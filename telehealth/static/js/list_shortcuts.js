// Keyboard shortcuts for the lists of a page (tables marked data-shortcut-list, rows data-row):
// j / k select the next / previous row (it takes the focus, so a screen reader reads it), o or Enter
// opens the selected row's link (a[data-open], the same link a click follows), ? moves to the page's
// "Keyboard shortcuts" section (#shortcuts). Keys are ignored while typing in a field, with Ctrl,
// Alt or Meta held, and when a row has no link to open. Every shortcut has a visible control.
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll("[data-shortcut-list] [data-row]"));
  var help = document.getElementById("shortcuts");
  var current = -1;

  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return target.isContentEditable || tag === "input" || tag === "textarea" || tag === "select";
  }
  function select(index, keepFocus) {
    if (!rows.length) return;
    index = Math.max(0, Math.min(rows.length - 1, index));
    if (current >= 0 && rows[current]) rows[current].classList.remove("row-selected");
    current = index;
    var row = rows[current];
    row.classList.add("row-selected");
    row.setAttribute("aria-current", "true");
    rows.forEach(function (other) { if (other !== row) other.removeAttribute("aria-current"); });
    if (keepFocus) return;  // a link in the row took the focus (Tab): leave it there
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }
  function open() {
    var row = rows[current];
    var link = row && row.querySelector("a[data-open]");
    if (link) link.click();
  }
  rows.forEach(function (row, index) {
    row.addEventListener("focusin", function () {
      if (current !== index) select(index, true);
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey) return;
    if (typing(event.target)) return;
    var key = event.key;
    if (key === "j") { select(current + 1); event.preventDefault(); }
    else if (key === "k") { select(current < 0 ? 0 : current - 1); event.preventDefault(); }
    else if ((key === "o" && current >= 0) || (key === "Enter" && event.target === rows[current])) {
      open(); event.preventDefault();
    }
    else if (key === "?" && help) {
      help.scrollIntoView({ block: "start" });
      help.focus({ preventScroll: true });
      event.preventDefault();
    }
  });
})();
