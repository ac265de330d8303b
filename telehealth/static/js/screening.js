// The screening's small extras; every page works without them. A "Copy the link" button next to the
// saved screening's link (shown only when the browser can copy).
(function () {
  "use strict";
  var buttons = document.querySelectorAll("[data-copy-target]");
  if (!navigator.clipboard || !buttons.length) return;
  Array.prototype.forEach.call(buttons, function (button) {
    var field = document.getElementById(button.getAttribute("data-copy-target"));
    var status = button.parentNode.querySelector("[data-copy-status]");
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        if (status) status.textContent = "Copied. Paste it somewhere private to come back later.";
      }, function () {
        field.select();
        if (status) status.textContent = "Select the link above and copy it.";
      });
    });
  });
})();
