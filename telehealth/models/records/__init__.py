"""Records: releases of a patient's record, the progress report, the FHIR export, the full record.
Tables and state verbs: releases.
May use: accounts."""
