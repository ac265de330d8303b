// The slot picker (templates/scheduling/_macros.html): with htmx, choosing a day swaps that day's
// times in place instead of loading the whole page; focus then moves to the times, so a keyboard or
// screen-reader user lands where the change happened. Without JavaScript the day links are plain links.
(function () {
  "use strict";
  document.body.addEventListener("htmx:afterSettle", function () {
    var times = document.getElementById("field-slot") || document.getElementById("day-heading");
    if (times) times.focus();
  });
})();
