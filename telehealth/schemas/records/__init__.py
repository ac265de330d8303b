"""Records: releases of a patient's record, the progress report, the FHIR export, the full record.
Request and response schemas: records.
May use: records, accounts, screening, billing, scheduling, pharmacy, messaging, home_care."""
