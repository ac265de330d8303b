// The home page's SLA timer: counts down the time left ("18 h 12 min") without a reload, from the
// seconds the server rendered (so a wrong clock on the device does not change what it says). The
// words match routes/care/home_pages.duration. Without JavaScript the page shows the server's value.
(function () {
  "use strict";
  var timers = document.querySelectorAll("[data-countdown][data-seconds-left]");
  if (!timers.length) return;
  var started = Date.now();

  function words(seconds) {
    var minutes = Math.floor(seconds / 60);
    if (minutes < 1) return "less than a minute";
    var hours = Math.floor(minutes / 60);
    minutes = minutes % 60;
    return hours ? hours + " h " + minutes + " min" : minutes + " min";
  }
  function tick() {
    var elapsed = (Date.now() - started) / 1000;
    timers.forEach(function (timer) {
      var left = Math.max(0, parseInt(timer.getAttribute("data-seconds-left"), 10) - elapsed);
      var text = words(left);
      if (timer.textContent !== text) timer.textContent = text;
    });
  }
  tick();
  setInterval(tick, 15000);
})();
