// Keyboard shortcuts for staff pages, driven by data attributes only (any page can use it: the review
// queue and review page, the Today page's lists...). Ignored while typing in a field, with Ctrl, Alt
// or Cmd held, or while a dialog is open. Nothing here ever submits a form: a shortcut moves focus to
// a button (the person confirms with Enter) or follows a link.
//
//   <tbody data-shortcut-list> <tr data-shortcut-row> ... <a data-shortcut-open href>   j / k move the
//        highlighted row (its link takes the focus), o (or Enter) opens it.
//   <a data-shortcut="n" href>                            n follows the link.
//   <button data-shortcut="a" data-shortcut-hint="id">    a scrolls to the button and focuses it; the
//        element #id (hidden) is shown while the button has the focus (say "Press Enter to ...").
//   data-shortcut-action="follow" | "focus"               the default: links follow, the rest focus.
//   <section data-shortcut-help tabindex="-1">            ? brings the visible list of shortcuts into view.
//   Esc hides a hint shown and leaves the button.
(function () {
  "use strict";
  var list = document.querySelector("[data-shortcut-list]");
  var current = -1;

  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    if (tag === "textarea" || tag === "select" || target.isContentEditable) return true;
    if (tag === "input") {
      var type = (target.getAttribute("type") || "text").toLowerCase();
      return ["button", "submit", "reset", "checkbox", "radio", "hidden"].indexOf(type) < 0;
    }
    return false;
  }

  function rows() {
    return list ? Array.prototype.slice.call(list.querySelectorAll("[data-shortcut-row]")) : [];
  }

  function highlight(index) {
    var all = rows();
    if (!all.length) return;
    index = Math.max(0, Math.min(all.length - 1, index));
    all.forEach(function (row, i) {
      row.classList.toggle("is-current", i === index);
      if (i === index) row.setAttribute("aria-current", "true"); else row.removeAttribute("aria-current");
    });
    current = index;
    var link = all[index].querySelector("[data-shortcut-open]");
    if (link) link.focus();
    all[index].scrollIntoView({ block: "nearest" });
  }

  function openCurrent() {
    var all = rows();
    if (current < 0 || current >= all.length) return false;
    var link = all[current].querySelector("[data-shortcut-open]");
    if (!link || !link.href) return false;
    window.location.assign(link.href);
    return true;
  }

  function hideHints() {
    var shown = document.querySelectorAll("[data-shortcut-hint-shown]");
    for (var i = 0; i < shown.length; i++) {
      shown[i].hidden = true;
      shown[i].removeAttribute("data-shortcut-hint-shown");
    }
  }

  function act(target) {
    var action = target.getAttribute("data-shortcut-action") ||
      (target.tagName.toLowerCase() === "a" ? "follow" : "focus");
    if (action === "follow" && target.href) {
      window.location.assign(target.href);
      return;
    }
    target.scrollIntoView({ block: "center" });
    target.focus();
    var hintId = target.getAttribute("data-shortcut-hint");
    var hint = hintId && document.getElementById(hintId);
    if (hint) {
      hint.hidden = false;
      hint.setAttribute("data-shortcut-hint-shown", "");
      target.addEventListener("blur", hideHints, { once: true });
    }
  }

  // A row clicked or focused by Tab becomes the highlighted one, so j/k go on from there.
  if (list) {
    list.addEventListener("focusin", function (event) {
      var all = rows();
      for (var i = 0; i < all.length; i++) {
        if (all[i].contains(event.target)) {
          if (current !== i) highlight(i);
          return;
        }
      }
    });
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target) || document.querySelector("dialog[open]")) return;
    var key = event.key;
    if (key === "Escape") {
      if (document.querySelector("[data-shortcut-hint-shown]")) {
        hideHints();
        if (document.activeElement) document.activeElement.blur();
        event.preventDefault();
      }
      return;
    }
    if (key === "?") {
      var help = document.querySelector("[data-shortcut-help]");
      if (help) {
        help.scrollIntoView({ block: "start" });
        help.focus();
        help.classList.add("is-highlighted");
        help.addEventListener("blur", function () { help.classList.remove("is-highlighted"); }, { once: true });
        event.preventDefault();
      }
      return;
    }
    if (list && (key === "j" || key === "k")) {
      highlight(current < 0 ? 0 : current + (key === "j" ? 1 : -1));
      event.preventDefault();
      return;
    }
    if (list && (key === "o" || (key === "Enter" && event.target === document.body))) {
      if (openCurrent()) event.preventDefault();
      return;
    }
    if (key.length !== 1) return;
    var target = document.querySelector('[data-shortcut="' + key.replace(/["\\]/g, "") + '"]');
    if (target) {
      act(target);
      event.preventDefault();
    }
  });
})();
