// twilio-video 2.36 builds one function from a string when it loads (its `dynamicImport`, for the
// optional Krisp noise-cancellation plugin): `new Function("url", "return import(url);")`. Under the
// portal's CSP (no 'unsafe-eval') that throws and the whole bundle fails, so `Twilio.Video` would
// never exist. Rather than allow eval on a page that holds PHI, this script, loaded just before
// twilio-video, answers that one exact call with an equivalent function written here; any other use
// of `Function` goes to the real constructor (and is refused by the CSP as before). The real
// constructor is put back once the deferred scripts have run (DOMContentLoaded).
(function () {
  "use strict";
  var RealFunction = window.Function;
  function importModule(url) { return import(url); }
  function CspFunction() {
    if (arguments.length === 2 && arguments[0] === "url" && arguments[1] === "return import(url);") {
      return importModule;
    }
    return RealFunction.apply(this, arguments);
  }
  CspFunction.prototype = RealFunction.prototype;
  window.Function = CspFunction;
  document.addEventListener("DOMContentLoaded", function () { window.Function = RealFunction; });
})();
