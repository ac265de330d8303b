"""Printed documents: the clinic's name, how names, dates, money and addresses are printed, and the
PDF primitives (fpdf2, core fonts only, so no font file is needed). Shared by the billing documents
(receipts, superbills) and the records' progress report; money is integer cents, printed by
`format_cents` alone."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app

from telehealth.clock import local_day
from telehealth.models.accounts.accounts import User

DEFAULT_CLINIC_NAME = "Telehealth Ketamine Program"
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def clinic_name() -> str:
    """The clinic's name on every document and release (`CLINIC_NAME`)."""
    return current_app.config.get("CLINIC_NAME", DEFAULT_CLINIC_NAME) or DEFAULT_CLINIC_NAME


def legal_name(patient: User) -> str:
    """The patient's legal name, as documents print it (the display name without a profile)."""
    profile = patient.patient_profile
    if profile is None:
        return patient.display_name
    return f"{profile.legal_first_name} {profile.legal_last_name}"


def npi_of(physician: User) -> str:
    """The physician's NPI, as documents print it ("" without a physician profile)."""
    return physician.physician_profile.npi if physician.physician_profile else ""


def format_cents(cents: int) -> str:
    """Integer cents as dollars: 19900 -> "$199.00", -5000 -> "-$50.00", 123456 -> "$1,234.56"."""
    sign = "-" if cents < 0 else ""
    dollars, rest = divmod(abs(int(cents)), 100)
    return f"{sign}${dollars:,}.{rest:02d}"


def format_date(day: date) -> str:
    return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"


def format_moment(moment: datetime, zone: str) -> str:
    """A moment as the patient reads it: "March 5, 2026, 2:15 PM EST"."""
    local = moment.astimezone(ZoneInfo(zone))
    hour = local.hour % 12 or 12
    return f"{format_date(local.date())}, {hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'} " \
           f"{local.tzname()}"


def local_date(moment: datetime, zone: str) -> str:
    return format_date(local_day(moment, zone))


def address_lines(address: dict) -> list[str]:
    """A US postal address as printed lines."""
    first = [str(address.get(k) or "").strip() for k in ("line1", "line2")]
    city = str(address.get("city") or "").strip()
    state = str(address.get("state") or "").strip()
    postal = str(address.get("postal_code") or "").strip()
    last = ", ".join(p for p in (city, f"{state} {postal}".strip()) if p)
    return [line for line in (*first, last) if line]


def latin1(text: object) -> str:
    """Text the PDF core fonts can draw: common typography mapped to plain ASCII, anything else
    outside latin-1 replaced by "?"."""
    value = str(text)
    for fancy, plain in (("\u2018", "'"), ("\u2019", "'"), ("\u201c", '"'), ("\u201d", '"'), ("\u2013", "-"),
                         ("\u2014", "-"), ("\u2026", "..."), ("\u00a0", " ")):
        value = value.replace(fancy, plain)
    return value.encode("latin-1", "replace").decode("latin-1")


def new_pdf(title: str, clinic_name: str):
    from fpdf import FPDF

    pdf = FPDF(orientation="portrait", unit="mm", format="letter")
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_title(latin1(title))
    pdf.set_author(latin1(clinic_name))
    pdf.set_creator(latin1(clinic_name))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf_line(pdf, clinic_name, height=8)
    pdf.set_font("Helvetica", "", 11)
    pdf_line(pdf, title, height=6)
    pdf.ln(4)
    return pdf


def pdf_line(pdf, text: object, *, height: float = 5.5) -> None:
    """A full-width paragraph (wraps when long)."""
    from fpdf.enums import XPos, YPos

    pdf.multi_cell(0, height, latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def pdf_wrapped(pdf, text: object, width: float) -> None:
    from fpdf.enums import XPos, YPos

    pdf.multi_cell(width, 5, latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def pdf_heading(pdf, text: str) -> None:
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 11)
    pdf_line(pdf, text, height=6)
    pdf.set_font("Helvetica", "", 10)


def pdf_row(pdf, cells: list[tuple[object, float, str]], *, bold: bool = False, border: str = "") -> None:
    """One table row: (text, width in mm, align L/R) per cell."""
    from fpdf.enums import XPos, YPos

    pdf.set_font("Helvetica", "B" if bold else "", 10)
    for i, (text, width, align) in enumerate(cells):
        last = i == len(cells) - 1
        pdf.cell(width, 6.5, latin1(text), border=border, align=align,
                 new_x=XPos.LMARGIN if last else XPos.RIGHT, new_y=YPos.NEXT if last else YPos.TOP)
    pdf.set_font("Helvetica", "", 10)


def pdf_pairs(pdf, pairs: list[tuple[str, object]]) -> None:
    from fpdf.enums import XPos, YPos

    for label, value in pairs:
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(45, 5.5, latin1(label), new_x=XPos.RIGHT, new_y=YPos.TOP)
        pdf.set_font("Helvetica", "", 10)
        pdf.multi_cell(0, 5.5, latin1(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
