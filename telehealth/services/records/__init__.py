"""Records: releases of a patient's record, the progress report, the FHIR export, the full record.
The rules, no HTTP: fhir_export, progress_report, record_export, releases.
May call: platform, accounts, screening, billing, scheduling, pharmacy, messaging, home_care, care."""
