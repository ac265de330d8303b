"""Settings read from the environment, one class per deployment kind.

Every tunable of the service lives here with its default; the README lists each environment
variable. Clinical thresholds are not here: they belong to the clinical policy, which the medical
director edits (a later issue), not to deployment settings.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_SECRET_KEY = "dev-insecure-secret-key-change-me"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    return int(_env(name, str(default)))  # type: ignore[arg-type]


def _env_bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_float(name: str, default: float) -> float:
    return float(_env(name, str(default)))  # type: ignore[arg-type]


DEFAULT_TWILIO_AUTH_TOKEN = "development-twilio-auth-token"
DEMO_ON_CALL_FALLBACK_PHONE = "+15005550100"


def default_sqlite_url() -> str:
    return f"sqlite:///{BASE_DIR / 'instance' / 'telehealth.db'}"


def _is_e164(value: str) -> bool:
    import phonenumbers

    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return False
    return (phonenumbers.is_valid_number(number)
            and phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == value)


class ConfigError(RuntimeError):
    """The environment does not describe a deployment that may start."""


class Config:
    ENV_NAME = "base"
    SECRET_KEY = _env("SECRET_KEY", DEFAULT_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL") or default_sqlite_url()
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    # Fernet keys (comma separated, newest first) for sensitive fields at rest. Development derives
    # one from SECRET_KEY so `make run` works on a bare machine; production must set its own.
    FIELD_ENCRYPTION_KEYS = _env("FIELD_ENCRYPTION_KEYS")

    MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", 1024 * 1024)

    SESSION_COOKIE_NAME = "telehealth_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # Automatic logoff after inactivity (HIPAA): staff are logged off sooner than patients.
    STAFF_IDLE_TIMEOUT_MINUTES = _env_int("STAFF_IDLE_TIMEOUT_MINUTES", 15)
    PATIENT_IDLE_TIMEOUT_MINUTES = _env_int("PATIENT_IDLE_TIMEOUT_MINUTES", 60)
    # Where `make assets` installs the npm packages the portal serves (package.json).
    ASSETS_DIR = _env("ASSETS_DIR", str(Path(__file__).resolve().parent.parent / "node_modules"))
    # A form's CSRF token lasts as long as the login session (which idle logoff ends): a patient
    # who stays signed in past an hour must not find the form they filled "expired".
    WTF_CSRF_TIME_LIMIT = None
    # The portal warns this long before automatic logoff, with a button to stay signed in.
    IDLE_WARNING_SECONDS = _env_int("IDLE_WARNING_SECONDS", 120)

    LOGIN_RATE_LIMIT = _env("LOGIN_RATE_LIMIT", "10 per minute")
    # Anonymous screening endpoints, per client address (a 10-minute form saves a few drafts).
    ASSESSMENT_RATE_LIMIT = _env("ASSESSMENT_RATE_LIMIT", "120 per hour")
    # A patient's full-record download, per account (only downloads served count).
    RECORD_EXPORT_RATE_LIMIT = _env("RECORD_EXPORT_RATE_LIMIT", "10 per hour")
    # How long an unfinished screening can be resumed, and an anonymous result claimed, by its token.
    ASSESSMENT_DRAFT_TTL_DAYS = _env_int("ASSESSMENT_DRAFT_TTL_DAYS", 30)
    ASSESSMENT_CLAIM_TTL_DAYS = _env_int("ASSESSMENT_CLAIM_TTL_DAYS", 30)
    LOGIN_MAX_FAILURES = _env_int("LOGIN_MAX_FAILURES", 5)
    LOGIN_LOCKOUT_MINUTES = _env_int("LOGIN_LOCKOUT_MINUTES", 15)
    PASSWORD_RESET_MAX_AGE_SECONDS = _env_int("PASSWORD_RESET_MAX_AGE_SECONDS", 3600)
    PASSWORD_MIN_LENGTH = 10
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True

    # argon2 cost; tests lower it so a suite of logins stays fast.
    ARGON2_TIME_COST = _env_int("ARGON2_TIME_COST", 3)
    ARGON2_MEMORY_COST = _env_int("ARGON2_MEMORY_COST", 65536)

    PUBLIC_BASE_URL = _env("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    CLINIC_NAME = _env("CLINIC_NAME", "Telehealth Ketamine Program")  # on receipts and superbills
    # The name texts go out under: it must say nothing clinical (checked at start-up), unlike CLINIC_NAME.
    SMS_PROGRAM_NAME = _env("SMS_PROGRAM_NAME", "Telehealth Care")
    MAIL_BACKEND = _env("MAIL_BACKEND", "outbox")  # outbox | smtp
    MAIL_FROM = _env("MAIL_FROM", "care@telehealth.example")
    SMTP_HOST = _env("SMTP_HOST", "127.0.0.1")
    SMTP_PORT = _env_int("SMTP_PORT", 25)
    SMTP_USERNAME = _env("SMTP_USERNAME")
    SMTP_PASSWORD = _env("SMTP_PASSWORD")
    SMTP_STARTTLS = _env_bool("SMTP_STARTTLS", False)

    # Stripe. Development and tests talk to a local `localstripe` server (started by the Makefile
    # and the test fixtures); production leaves STRIPE_API_BASE unset to reach Stripe itself.
    STRIPE_API_BASE = _env("STRIPE_API_BASE", "http://127.0.0.1:8420")
    STRIPE_SECRET_KEY = _env("STRIPE_SECRET_KEY", "sk_test_localstripe")
    STRIPE_PUBLISHABLE_KEY = _env("STRIPE_PUBLISHABLE_KEY", "pk_test_localstripe")
    STRIPE_WEBHOOK_SECRET = _env("STRIPE_WEBHOOK_SECRET", "whsec_localstripe_development")
    STRIPE_MAX_NETWORK_RETRIES = _env_int("STRIPE_MAX_NETWORK_RETRIES", 0)
    # Stripe.js, the one outside script (the payment pages only). Unset: localstripe's stand-in at
    # f"{STRIPE_API_BASE}/js.stripe.com/v3/" when STRIPE_API_BASE is set, else Stripe's own
    # https://js.stripe.com/v3/; worked out per request (adapters/payments.browser_script_url), so an
    # app whose STRIPE_API_BASE is set after start-up (the tests' localstripe port) follows it.
    STRIPE_JS_URL = _env("STRIPE_JS_URL")
    # Booking: how soon and how far ahead, slot grid, buffer around each appointment, and the
    # cancellation cutoff after which a patient's cancellation keeps the credit used.
    BOOKING_MIN_NOTICE_HOURS = _env_int("BOOKING_MIN_NOTICE_HOURS", 12)
    BOOKING_HORIZON_DAYS = _env_int("BOOKING_HORIZON_DAYS", 30)
    SLOT_STEP_MINUTES = _env_int("SLOT_STEP_MINUTES", 30)
    APPOINTMENT_BUFFER_MINUTES = _env_int("APPOINTMENT_BUFFER_MINUTES", 10)
    CANCELLATION_CUTOFF_HOURS = _env_int("CANCELLATION_CUTOFF_HOURS", 24)
    # Twilio Video access tokens are made offline; development values sign tokens nobody accepts.
    TWILIO_ACCOUNT_SID = _env("TWILIO_ACCOUNT_SID", "AC00000000000000000000000000000000")
    TWILIO_API_KEY_SID = _env("TWILIO_API_KEY_SID", "SK00000000000000000000000000000000")
    TWILIO_API_KEY_SECRET = _env("TWILIO_API_KEY_SECRET", "development-video-secret-not-for-production")
    # Text messages (SMS): `console` logs a PHI-free line and keeps the text in the outbox table only
    # (read it with `flask sms-outbox`); `twilio` sends through the Twilio SDK to TWILIO_API_BASE
    # (the tests point it at scripts/twilio_server.py, a local server speaking Twilio's REST API).
    SMS_BACKEND = _env("SMS_BACKEND", "console")
    TWILIO_AUTH_TOKEN = _env("TWILIO_AUTH_TOKEN", DEFAULT_TWILIO_AUTH_TOKEN)
    TWILIO_FROM_NUMBER = _env("TWILIO_FROM_NUMBER", "+15005550006")
    TWILIO_API_BASE = _env("TWILIO_API_BASE", "https://api.twilio.com")
    TWILIO_TIMEOUT_SECONDS = _env_float("TWILIO_TIMEOUT_SECONDS", 10.0)
    SMS_SUPPORT_CONTACT = _env("SMS_SUPPORT_CONTACT", "care@telehealth.example")
    # The outbox: a dispatcher's claim on a message lasts this long (longer than a Twilio request),
    # a message is tried this many times, retries wait base * 2^(attempt-1) seconds (+ up to 10%
    # jitter) up to the cap, and the scheduler dispatches every interval.
    OUTBOX_LEASE_SECONDS = _env_int("OUTBOX_LEASE_SECONDS", 60)
    OUTBOX_MAX_ATTEMPTS = _env_int("OUTBOX_MAX_ATTEMPTS", 6)
    OUTBOX_BACKOFF_SECONDS = _env_float("OUTBOX_BACKOFF_SECONDS", 30.0)
    OUTBOX_BACKOFF_MAX_SECONDS = _env_float("OUTBOX_BACKOFF_MAX_SECONDS", 3600.0)
    OUTBOX_DISPATCH_INTERVAL_SECONDS = _env_float("OUTBOX_DISPATCH_INTERVAL_SECONDS", 5.0)
    # Urgent clinical alerts page whoever the on-call rota (admin) has on call now; with nobody on
    # call, every active physician with a phone AND this number (no clinical words, any hour).
    # Production refuses to start without it. ON_CALL_PHONE is its former, deprecated name.
    ON_CALL_FALLBACK_PHONE = _env("ON_CALL_FALLBACK_PHONE") or _env("ON_CALL_PHONE")
    # A video token is handed out from this long before an appointment to this long after it ends.
    VIDEO_OPENS_MINUTES_BEFORE = _env_int("VIDEO_OPENS_MINUTES_BEFORE", 10)
    VIDEO_CLOSES_MINUTES_AFTER = _env_int("VIDEO_CLOSES_MINUTES_AFTER", 30)
    # The partner pharmacy: its API and the shared secret that signs its webhooks.
    PHARMACY_WEBHOOK_SECRET = _env("PHARMACY_WEBHOOK_SECRET", "pharmacy-development-secret")
    PHARMACY_API_BASE = _env("PHARMACY_API_BASE", "http://127.0.0.1:8430")
    # A stage the pharmacy has not taken after this many attempts is given up (ops are alerted).
    PHARMACY_MAX_SEND_ATTEMPTS = _env_int("PHARMACY_MAX_SEND_ATTEMPTS", 10)
    # Written refund policy: unused credits of refundable packages, pro rata, within this many days.
    REFUND_WINDOW_DAYS = _env_int("REFUND_WINDOW_DAYS", 30)
    LOG_LEVEL = _env("LOG_LEVEL", "INFO")
    # How many proxies in front of the app set X-Forwarded-For (0: none, trust no such header).
    TRUSTED_PROXY_HOPS = _env_int("TRUSTED_PROXY_HOPS", 0)
    # The medical director's changes to the clinical policy defaults, as JSON (see telehealth/policy.py).
    CLINICAL_POLICY = json.loads(_env("CLINICAL_POLICY", "{}"))  # type: ignore[arg-type]
    TESTING = False
    # Strict-Transport-Security max-age: production only (a development server on plain HTTP
    # would otherwise pin localhost to HTTPS in the browser).
    HSTS_SECONDS = 0

    @classmethod
    def validate(cls, settings: dict) -> None:
        """Refuse a configuration that must not run; the base accepts development defaults."""


def development_base_url() -> str:
    """Where `make run` serves (HOST and PORT, as scripts/run_dev.py binds them), so emailed links and
    `flask sms-receive` reach this server on whatever port it was started; a bind-all host is
    reached on the loopback address."""
    host = _env("HOST", "127.0.0.1")
    return f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{_env('PORT', '5000')}"


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    # a demo number, so `make run` pages somewhere (read the texts with `flask sms-outbox`)
    ON_CALL_FALLBACK_PHONE = Config.ON_CALL_FALLBACK_PHONE or DEMO_ON_CALL_FALLBACK_PHONE
    PUBLIC_BASE_URL = _env("PUBLIC_BASE_URL") or development_base_url()


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SQLALCHEMY_DATABASE_URI = _env("TEST_DATABASE_URL") or "sqlite:///:memory:"
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024
    RATELIMIT_STORAGE_URI = "memory://"
    SMS_BACKEND = _env("SMS_BACKEND", "twilio")


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    MAIL_BACKEND = _env("MAIL_BACKEND", "smtp")
    STRIPE_API_BASE = _env("STRIPE_API_BASE")  # unset: Stripe's own API
    STRIPE_MAX_NETWORK_RETRIES = _env_int("STRIPE_MAX_NETWORK_RETRIES", 2)
    SMS_BACKEND = _env("SMS_BACKEND", "twilio")
    HSTS_SECONDS = _env_int("HSTS_SECONDS", 365 * 24 * 3600)

    @classmethod
    def validate(cls, settings: dict) -> None:
        problems = []
        if not settings.get("SECRET_KEY") or settings["SECRET_KEY"] == DEFAULT_SECRET_KEY:
            problems.append("SECRET_KEY must be set to a private value")
        if not _env("DATABASE_URL") and settings.get("SQLALCHEMY_DATABASE_URI") == default_sqlite_url():
            problems.append("DATABASE_URL must be set")
        if settings.get("STRIPE_SECRET_KEY", "").endswith("localstripe") or \
                settings.get("STRIPE_WEBHOOK_SECRET", "").endswith("development"):
            problems.append("STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET must be set")
        if settings.get("PHARMACY_WEBHOOK_SECRET") == "pharmacy-development-secret":
            problems.append("PHARMACY_WEBHOOK_SECRET must be set")
        if settings.get("TWILIO_API_KEY_SECRET") == "development-video-secret-not-for-production":
            problems.append("TWILIO_API_KEY_SECRET must be set")
        if settings.get("TWILIO_AUTH_TOKEN") in (None, "", DEFAULT_TWILIO_AUTH_TOKEN):
            problems.append("TWILIO_AUTH_TOKEN must be set")
        if not settings.get("FIELD_ENCRYPTION_KEYS"):
            problems.append("FIELD_ENCRYPTION_KEYS must be set")
        fallback = settings.get("ON_CALL_FALLBACK_PHONE")
        if not fallback or fallback == DEMO_ON_CALL_FALLBACK_PHONE:
            problems.append("ON_CALL_FALLBACK_PHONE must be set (someone is always on call)")
        elif not _is_e164(fallback):
            problems.append("ON_CALL_FALLBACK_PHONE must be a phone number in E.164 form, such as +12125550100")
        if problems:
            raise ConfigError("refusing to start in production: " + "; ".join(problems))


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_for(name: str | None = None) -> type[Config]:
    name = name or _env("TELEHEALTH_ENV", "development")
    try:
        return CONFIGS[name]  # type: ignore[index]
    except KeyError:
        raise ConfigError(f"TELEHEALTH_ENV must be one of {sorted(CONFIGS)}, not {name!r}") from None
