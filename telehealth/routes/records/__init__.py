"""Records: releases of a patient's record, the progress report, the FHIR export, the full record.
HTTP only, one service call per request: records; pages: pages (sharing and the record download).
May call: records."""
