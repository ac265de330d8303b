/* Card payment with Stripe Elements (Stripe.js, loaded just before this file on the payment pages).
 *
 * The form [data-card-form] stays hidden until the card element is mounted. On submit, Stripe.js
 * turns the card into a PaymentMethod (stripe.createPaymentMethod); its id goes into the form's
 * `payment_method` field and the form is posted to our server, which confirms the payment with
 * Stripe (the same service as POST /api/v1/orders/<id>/confirm). The card number never reaches us.
 */
(function () {
  'use strict';

  var form = document.querySelector('[data-card-form]');
  if (!form) { return; }
  var unavailable = document.querySelector('[data-card-unavailable]');
  if (typeof window.Stripe !== 'function') {
    if (unavailable) { unavailable.hidden = false; }
    return;
  }

  var INCOMPLETE = 'Check the card number, the expiry month and year, and the security code, then try again. ' +
                   'Nothing has been charged.';
  var stripe = window.Stripe(form.getAttribute('data-publishable-key'));
  var card = stripe.elements().create('card');
  var errors = form.querySelector('[data-card-errors]');
  var button = form.querySelector('[data-card-submit]');
  var label = button.textContent;
  var sending = false;

  card.mount(form.querySelector('[data-card-element]'));
  form.hidden = false;
  card.on('change', function () { errors.textContent = ''; });

  function say(message) {
    errors.textContent = message;
    sending = false;
    button.disabled = false;
    button.textContent = label;
  }

  function words(error) {
    // Stripe's own messages are written for people ("Your card number is incomplete."); a bare
    // protocol word ("Bad request") is not, and becomes our sentence.
    var message = error && error.message ? String(error.message) : '';
    if (!message || /^(bad request|unauthorized|not found)\.?$/i.test(message)) { return INCOMPLETE; }
    // The browser's own words when the payment service cannot be reached ("Failed to fetch",
    // "NetworkError when attempting to fetch resource.", "Load failed") are not for people either.
    if (error instanceof TypeError || /fetch|network|load failed/i.test(message)) {
      return 'We could not reach the payment service. Check your connection and try again in a moment. ' +
             'Nothing has been charged.';
    }
    return message + ' Nothing has been charged.';
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    if (sending) { return; }
    sending = true;
    button.disabled = true;
    button.textContent = button.getAttribute('data-busy-label') || label;
    errors.textContent = '';
    stripe.createPaymentMethod({type: 'card', card: card}).then(function (result) {
      if (!result || result.error || !result.paymentMethod) {
        say(words(result && result.error));
        return;
      }
      form.querySelector('input[name="payment_method"]').value = result.paymentMethod.id;
      form.submit();  // a normal POST: the server answers with the next page
    }, function () {
      say('The card could not be checked just now. Check your connection and try again. Nothing has been charged.');
    });
  });
}());
