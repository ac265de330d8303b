"""URL converters: `<int:...>` ids are ASCII digits that fit a 32-bit column (others are a 404, not a
database error or another row); `<us_state:state>` matches only real two-letter US state codes.

Each converter's regex is exactly the set of values it accepts. Werkzeug picks a rule by regex (and
method) first and runs `to_python` only afterwards: a value the regex took but `to_python` refused
came back as a 405 when another rule on the same path served a different method, instead of a 404.
With the range inside the regex, an out-of-range value matches no rule at all, on every method.
Each converter also says its own OpenAPI schema (`openapi_schema`), which the document uses.
"""
from werkzeug.routing import BaseConverter, IntegerConverter

from telehealth.schemas.common import MAX_DB_ID, US_STATES


def digits_up_to(maximum: int) -> str:
    """A regex matching the decimal numbers 1..maximum in ASCII digits (`\\d` would also take
    Arabic-Indic and full-width ones), without leading zeros."""
    top = str(maximum)
    alternatives = []
    if len(top) > 1:  # every number with fewer digits
        alternatives.append(r"[1-9][0-9]{0,%d}" % (len(top) - 2) if len(top) > 2 else r"[1-9]")
    # same length as maximum: a prefix of maximum, then one digit below maximum's, then any digits
    for i, digit in enumerate(top):
        low = "1" if i == 0 else "0"
        high = int(digit) - 1
        if high >= int(low):
            rest = len(top) - i - 1
            alternatives.append(top[:i] + f"[{low}-{high}]" + (r"[0-9]{%d}" % rest if rest else ""))
    alternatives.append(top)
    return "(?:" + "|".join(alternatives) + ")"


class UsStateConverter(BaseConverter):
    regex = "(?:" + "|".join(sorted(US_STATES) + sorted(s.lower() for s in US_STATES)) + ")"

    def to_python(self, value: str) -> str:
        return value.upper()

    def openapi_schema(self) -> dict:
        return {"type": "string", "pattern": f"^{self.regex}$", "description": "a US state code (AL, ..., WY)"}


class DbIdConverter(IntegerConverter):
    """A row id: 1..MAX_DB_ID in ASCII digits, written without sign or leading zeros."""

    regex = digits_up_to(MAX_DB_ID)

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_DB_ID)
        super().__init__(url_map, *args, **kwargs)
        if self.max != MAX_DB_ID or self.signed or self.fixed_digits:
            raise ValueError("<int:...> takes no arguments: ids are 1..MAX_DB_ID")

    def openapi_schema(self) -> dict:
        return {"type": "integer", "minimum": self.min, "maximum": self.max}
