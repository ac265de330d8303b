// The review SLA countdown: each <time data-sla-seconds> holds the seconds left when the server sent
// the page ("5 h 12 min left", "overdue by 20 min" in its text, written by the server); this counts on
// from there in the same words, so a desk whose clock is wrong still shows the right time. The
// datetime attribute is the due moment. Without this script the page shows the time left at loading.
(function () {
  "use strict";
  var timers = document.querySelectorAll("time[data-sla-seconds]");
  var loaded = Date.now();
  if (!timers.length) return;
  function words(seconds) {
    var minutes = Math.floor(Math.abs(seconds) / 60);
    var hours = Math.floor(minutes / 60);
    var span = hours ? hours + " h " + (minutes % 60) + " min" : minutes + " min";
    return seconds < 0 ? "overdue by " + span : span + " left";
  }
  function tick() {
    var elapsed = Math.floor((Date.now() - loaded) / 1000);
    for (var i = 0; i < timers.length; i++) {
      var start = parseInt(timers[i].getAttribute("data-sla-seconds"), 10);
      if (isNaN(start)) continue;
      var left = start - elapsed;
      var text = words(left);
      if (timers[i].textContent !== text) timers[i].textContent = text;
      var box = timers[i].parentNode;
      if (box && box.classList) box.classList.toggle("sla-overdue", left < 0);
    }
  }
  tick();
  setInterval(tick, 20000);
})();
