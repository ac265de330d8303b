"""URL converters: `<int:...>` ids are ASCII digits that fit a 32-bit column (others are a 404, not a
database error or another row);
`<us_state:state>` matches only real two-letter US state codes."""
from werkzeug.routing import BaseConverter, IntegerConverter, ValidationError

from telehealth.schemas.common import MAX_DB_ID

from telehealth.schemas.common import US_STATES


class UsStateConverter(BaseConverter):
    regex = r"[A-Za-z]{2}"

    def to_python(self, value: str) -> str:
        if value.upper() not in US_STATES:
            raise ValidationError()
        return value.upper()


class DbIdConverter(IntegerConverter):
    regex = r"[0-9]+"  # werkzeug's \d+ also matches Arabic-Indic and full-width digits

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_DB_ID)
        super().__init__(url_map, *args, **kwargs)
