// The portal's shared script: the idle-logoff warning. Pages work without it; with it a signed-in
// person is warned before automatic logoff and can stay signed in (any request to the server counts
// as activity, so "Stay signed in" makes one). No inline code: the page's CSP forbids it.
(function () {
  "use strict";
  var body = document.body;
  var idle = parseInt(body.getAttribute("data-idle-seconds") || "0", 10);
  var dialog = document.getElementById("idle-warning");
  if (!idle || !dialog) return;
  var lead = Math.min(parseInt(body.getAttribute("data-idle-warning-seconds") || "120", 10), Math.floor(idle / 2));
  var token = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var countdown = dialog.querySelector("[data-idle-countdown]");
  var deadline, warnTimer, tickTimer, endTimer;

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
    tick();
    if (typeof dialog.showModal === "function" && !dialog.open) dialog.showModal();
    tickTimer = setInterval(tick, 1000);
  }
  function end() {
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
  function arm() {
    clearTimeout(warnTimer); clearTimeout(endTimer); clearInterval(tickTimer);
    deadline = Date.now() + idle * 1000;
    warnTimer = setTimeout(warn, (idle - lead) * 1000);
    endTimer = setTimeout(end, idle * 1000);
  }
  dialog.querySelector("[data-idle-stay]").addEventListener("click", function () {
    fetch("/session/keepalive", {method: "POST", credentials: "same-origin",
                                 headers: {"X-CSRFToken": token}})
      .then(function (response) {
        if (response.status === 204) { dialog.close(); arm(); } else { end(); }
      })
      .catch(function () { dialog.close(); arm(); });
  });
  arm();
})();
