// The portal's shared script: the idle-logoff warning. Pages work without it; with it a signed-in
// person is warned before automatic logoff and can stay signed in (any request to the server counts
// as activity, so "Stay signed in" makes one). No inline code: the page's CSP forbids it.
// Several tabs share one session: each page load and "Stay signed in" writes its time to
// localStorage, and a tab about to warn or sign out first looks there, so a tab left open does not
// sign out a person still working in another (the server keeps its own limit all the same).
(function () {
  "use strict";
  var body = document.body;
  var idle = parseInt(body.getAttribute("data-idle-seconds") || "0", 10);
  var dialog = document.getElementById("idle-warning");
  if (!idle || !dialog) return;
  var lead = Math.min(parseInt(body.getAttribute("data-idle-warning-seconds") || "120", 10), Math.floor(idle / 2));
  var token = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var countdown = dialog.querySelector("[data-idle-countdown]");
  var deadline, armedAt, warnTimer, tickTimer, endTimer;
  var KEY = "telehealth.lastActivity";

  function shared() {
    try { return parseInt(window.localStorage.getItem(KEY) || "0", 10) || 0; } catch (e) { return 0; }
  }
  function share(at) {
    try { window.localStorage.setItem(KEY, String(at)); } catch (e) { /* private mode: this tab alone */ }
  }
  function newerElsewhere() {
    // another tab was used after this one armed: count from then instead
    var latest = shared();
    if (latest > armedAt) {
      if (dialog.open) dialog.close();
      arm(latest);
      return true;
    }
    return false;
  }

  function words(seconds) {
    if (seconds >= 120) return Math.round(seconds / 60) + " minutes";
    if (seconds >= 60) return "1 minute";
    return seconds + (seconds === 1 ? " second" : " seconds");
  }
  function tick() {
    var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    countdown.textContent = words(left);
  }
  function warn() {
    if (newerElsewhere()) return;
    tick();
    if (typeof dialog.showModal === "function" && !dialog.open) dialog.showModal();
    tickTimer = setInterval(tick, 1000);
  }
  function end() {
    if (newerElsewhere()) return;
    // The server ends an idle session on its own, but this page's clock may run ahead of it: sign
    // out here too, so the sign-in page never finds the session still open (and sends the person
    // back in). If that fails, the sign-in page still says why they were signed out.
    var body = new URLSearchParams({reason: "idle"});
    fetch("/logout", {method: "POST", credentials: "same-origin", redirect: "manual", body: body,
                      headers: {"X-CSRFToken": token}})
      .then(function (response) {
        window.location.assign(response.type === "opaqueredirect" ? "/login" : "/login?signed_out=idle");
      })
      .catch(function () { window.location.assign("/login?signed_out=idle"); });
  }
  function arm(from) {
    clearTimeout(warnTimer); clearTimeout(endTimer); clearInterval(tickTimer);
    armedAt = from || Date.now();
    deadline = armedAt + idle * 1000;
    warnTimer = setTimeout(warn, Math.max(0, deadline - lead * 1000 - Date.now()));
    endTimer = setTimeout(end, Math.max(0, deadline - Date.now()));
  }
  dialog.querySelector("[data-idle-stay]").addEventListener("click", function () {
    fetch("/session/keepalive", {method: "POST", credentials: "same-origin",
                                 headers: {"X-CSRFToken": token}})
      .then(function (response) {
        if (response.status === 204) { dialog.close(); share(Date.now()); arm(); } else { end(); }
      })
      .catch(function () { dialog.close(); arm(); });
  });
  window.addEventListener("storage", function (event) {
    if (event.key === KEY) newerElsewhere();
  });
  share(Date.now());
  arm();
})();
