"""URL converters: `<us_state:state>` matches only real two-letter US state codes."""
from werkzeug.routing import BaseConverter, ValidationError

from telehealth.schemas.common import US_STATES


class UsStateConverter(BaseConverter):
    regex = r"[A-Za-z]{2}"

    def to_python(self, value: str) -> str:
        if value.upper() not in US_STATES:
            raise ValidationError()
        return value.upper()
