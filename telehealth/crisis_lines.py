"""Where to get help now: the crisis resources and their one-line forms, the same words everywhere.

A leaf (it imports nothing), so the error handler (a rate-limited screening still names 988) and the
crisis path of the screening domain share the text without either importing the other."""

RESOURCES: tuple[dict[str, str], ...] = (
    {"name": "988 Suicide & Crisis Lifeline", "how": "Call or text 988, any time, free and confidential.",
     "phone": "988", "sms": "988"},
    {"name": "Crisis Text Line", "how": "Text HOME to 741741 to reach a trained crisis counselor.",
     "phone": "", "sms": "741741"},
    {"name": "Emergency services", "how": "If you are in immediate danger, call 911 now.", "phone": "911", "sms": ""},
)

HELP_NOW = ("If you are thinking about ending your life, call or text 988 now, or text HOME to 741741. "
            "If you are in danger, call 911.")

CRISIS_NEXT_STEPS = (
    "Please reach out now: call or text 988, or text HOME to 741741. If you are in danger, call 911.",
    "A physician on our clinical team has been alerted and will review your answers urgently.",
)
