// Today's clocks: each review's SLA counts down ("5 h 12 min left", "overdue by 20 min") and each
// age counts up ("12 min ago") while the page stays open, in the words the server rendered
// (routes/care/today_pages.sla_words and ago). Time is measured from the server's own "now"
// (data-now) and the seconds it rendered, so a wrong clock on the device changes nothing.
// Without JavaScript the page shows the server's values.
(function () {
  "use strict";
  var root = document.querySelector("[data-now]");
  if (!root) return;
  var serverNow = Date.parse(root.getAttribute("data-now"));
  var started = Date.now();
  var timers = document.querySelectorAll("time[data-sla][data-seconds-left]");
  var ages = document.querySelectorAll("time[data-age][datetime]");

  function span(minutes) {
    if (minutes < 1) return "less than a minute";
    if (minutes < 60) return minutes + " min";
    var hours = Math.floor(minutes / 60);
    var rest = minutes % 60;
    if (hours < 48) return rest ? hours + " h " + rest + " min" : hours + " h";
    return Math.floor(hours / 24) + " days";
  }
  function slaWords(seconds) {
    if (seconds < 0) return "overdue by " + span(Math.floor(-seconds / 60));
    return span(Math.floor(seconds / 60)) + " left";
  }
  function agoWords(seconds) {
    var minutes = Math.floor(seconds / 60);
    return minutes < 1 ? "just now" : span(minutes) + " ago";
  }
  function tick() {
    var elapsed = (Date.now() - started) / 1000;
    timers.forEach(function (timer) {
      var left = parseInt(timer.getAttribute("data-seconds-left"), 10) - elapsed;
      var text = slaWords(left);
      if (timer.textContent !== text) timer.textContent = text;
      timer.classList.toggle("sla-over", left < 0);
      timer.classList.toggle("sla-soon", left >= 0 && left < 3 * 3600);
    });
    ages.forEach(function (age) {
      var at = Date.parse(age.getAttribute("datetime"));
      if (isNaN(at)) return;
      var text = agoWords((serverNow - at) / 1000 + elapsed);
      if (age.textContent !== text) age.textContent = text;
    });
  }
  tick();
  setInterval(tick, 15000);
})();
