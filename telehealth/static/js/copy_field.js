// A copy button for a read-only field (the calendar feed address). Without JavaScript the field is
// still there to select and copy by hand; with it, the button shows, copies, and says so.
(function () {
  "use strict";
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy-target"));
    if (!field) return;
    var status = field.closest(".field").querySelector("[data-copy-status]");
    button.hidden = false;
    field.addEventListener("focus", function () { field.select(); });
    button.addEventListener("click", function () {
      field.focus();
      field.select();
      function said(text) { if (status) status.textContent = text; }
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(field.value).then(function () { said("Copied."); },
          function () { said("Select the address and copy it with your keyboard."); });
      } else {
        said("Select the address and copy it with your keyboard.");
      }
    });
  });
})();
