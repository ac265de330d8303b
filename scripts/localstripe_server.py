"""Run the `localstripe` server (a local, stateful stand-in for Stripe's API, and for Stripe.js) for
tests, the benchmark and `make run`.

Changes to localstripe's own start-up: it listens on 127.0.0.1 only (it holds customers' emails and
accepts webhook configuration from anyone who can reach it), and it keeps its store in memory (it
would save it after every write to one fixed file, /tmp/localstripe.pickle, which two instances on
one machine corrupt, and which grows slower with every write).

And three corrections, so the stand-in speaks Stripe's API where the portal's payment pages use it
(each is what real Stripe does; nothing else of localstripe changes):
- its Stripe.js (`/js.stripe.com/v3/`) ships `createPaymentMethod` as an empty function: the copy
  served here implements it as Stripe.js does, POST /v1/payment_methods with the publishable key,
  `type=card` and the card element's value, answering `{paymentMethod}` or `{error: {message}}`;
  its card element's inputs get accessible names (Stripe's own card field labels its inputs);
- POST /v1/payment_methods accepts the publishable key (`key=pk_...` in the body), as Stripe does
  for Stripe.js: localstripe accepts it only for tokens, sources and intents' confirmations;
- a card Stripe declines when it is attached (4000000000000002, "generic decline") is declined
  when it is charged too: localstripe would let a PaymentIntent charge it.

    python scripts/localstripe_server.py --port 8420
"""
import argparse
import logging
import os
import re

from aiohttp import web
from localstripe import resources, server

resources.Store.try_load_from_disk = lambda self: None
resources.Store.dump_to_disk = lambda self: None

# ----------------------------------------------------------------------------- Stripe.js

CREATE_PAYMENT_METHOD = r"""
    createPaymentMethod: async (typeOrData, legacyElement, legacyData) => {
      // Stripe.js: createPaymentMethod({type: 'card', card: element, billing_details})
      // (and the older createPaymentMethod('card', element, data)).
      console.log('localstripe: Stripe().createPaymentMethod()');
      const data = typeof typeOrData === 'string'
        ? {type: typeOrData, card: legacyElement, ...(legacyData || {})}
        : {...(typeOrData || {})};
      if (data.type !== 'card' || !(data.card instanceof Element)) {
        return {error: {type: 'validation_error', message: 'Only a card element can be used here.'}};
      }
      if (!data.card.value || !data.card.value.card.number) {
        return {error: {type: 'validation_error', code: 'incomplete_number',
                        message: 'Your card number is incomplete.'}};
      }
      const body = new URLSearchParams();
      body.append('key', apiKey);
      body.append('payment_user_agent', 'localstripe');
      body.append('type', 'card');
      Object.keys(data.card.value.card).forEach(field => {
        body.append(`card[${field}]`, data.card.value.card[field]);
      });
      const details = data.billing_details || {};
      const postal = (details.address && details.address.postal_code) || data.card.value.postal_code;
      if (postal) {
        body.append('billing_details[address][postal_code]', postal);
      }
      ['name', 'email', 'phone'].forEach(field => {
        if (details[field]) body.append(`billing_details[${field}]`, details[field]);
      });
      try {
        const response = await fetch(`${LOCALSTRIPE_BASE_API}/v1/payment_methods`, {
          method: 'POST',
          headers: {'Content-Type': 'application/x-www-form-urlencoded'},
          body: body.toString(),
        });
        const res = await response.json().catch(() => ({}));
        if (response.status !== 200 || res.error) {
          return {error: res.error || {message: 'The card could not be checked.'}};
        }
        return {paymentMethod: res};
      } catch (err) {
        return {error: {type: 'api_connection_error', message: String((err && err.message) || err)}};
      }
    },
"""

LABELS = r"""
      this._inputs[field].setAttribute('aria-label', {
        number: 'Card number', exp_month: 'Expiry month (MM)', exp_year: 'Expiry year (YY)',
        cvc: 'Security code (CVC)', postal_code: 'ZIP code'}[field]);
      this._inputs[field].oninput = changed;"""


def corrected_stripe_js(original: str) -> str:
    """localstripe's Stripe.js with the corrections above; refuses to guess if localstripe changed."""
    patched, found = re.subn(r"\n\s*createPaymentMethod: async \(\) => \{\},\n", CREATE_PAYMENT_METHOD, original)
    assert found == 1, "localstripe's Stripe.js changed: check createPaymentMethod before serving it"
    patched, found = re.subn(r"\n\s*this\._inputs\[field\]\.oninput = changed;", LABELS, patched)
    assert found == 1, "localstripe's Stripe.js changed: check the card element's inputs"
    return patched


_JS_PATH = os.path.join(os.path.dirname(os.path.realpath(server.__file__)), "localstripe-v3.js")
with open(_JS_PATH) as _js:
    STRIPE_JS = corrected_stripe_js(_js.read())


@web.middleware
async def serve_corrected_stripe_js(request, handler):
    if request.method == "GET" and request.path == "/js.stripe.com/v3/":
        return web.Response(text=STRIPE_JS, content_type="application/javascript")
    return await handler(request)


# ----------------------------------------------------------------------------- publishable key


@web.middleware
async def auth_with_publishable_key(request, handler):
    """localstripe's auth, plus Stripe's: Stripe.js creates a PaymentMethod with the publishable key."""
    if request.method == "POST" and request.path == "/v1/payment_methods":
        data = await server.get_post_data(request, remove_auth=False)
        key = data.get("key") if isinstance(data, dict) else None
        if isinstance(key, str) and key.startswith("pk_"):
            return await handler(request)
    return await server.auth_middleware(request, handler)


server.app.middlewares.insert(0, serve_corrected_stripe_js)
server.app.middlewares[server.app.middlewares.index(server.auth_middleware)] = auth_with_publishable_key

# ----------------------------------------------------------------------------- declines

_declined_when_charged = resources.PaymentMethod._charging_is_declined


def _charging_is_declined(self) -> bool:
    return _declined_when_charged(self) or (self.type == "card" and self._attaching_is_declined())


resources.PaymentMethod._charging_is_declined = _charging_is_declined


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    access = logging.getLogger("aiohttp.access")
    access.setLevel(logging.INFO)
    access.addHandler(logging.StreamHandler())
    web.run_app(server.app, host=args.host, port=args.port, access_log=access, print=None)


if __name__ == "__main__":
    main()
