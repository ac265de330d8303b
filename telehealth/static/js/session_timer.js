// The session screen's elapsed time: the server writes the start and the seconds elapsed when it sent
// the page; this counts on from there (in words, as the server does: "1 hour 5 minutes"), so a phone
// whose clock is wrong still shows the right time. Without it the page still shows the start time
// and the minutes when it was opened.
(function () {
  "use strict";
  var spans = document.querySelectorAll("[data-elapsed-seconds]");
  var loaded = Date.now();
  if (!spans.length) return;
  function words(ms) {
    var minutes = Math.max(0, Math.floor(ms / 60000));
    var hours = Math.floor(minutes / 60);
    minutes = minutes % 60;
    var parts = [];
    if (hours) parts.push(hours + (hours === 1 ? " hour" : " hours"));
    if (minutes || !hours) parts.push(minutes + (minutes === 1 ? " minute" : " minutes"));
    return parts.join(" ");
  }
  function tick() {
    for (var i = 0; i < spans.length; i++) {
      var seconds = parseInt(spans[i].getAttribute("data-elapsed-seconds"), 10);
      if (!isNaN(seconds)) spans[i].textContent = words(seconds * 1000 + Date.now() - loaded);
    }
  }
  tick();
  setInterval(tick, 15000);
})();
