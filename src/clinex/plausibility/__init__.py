"""Plausibility checks on every extraction: facts a finished Document states that cannot all be
true, or are unlikely to be what the note meant. The pipeline runs them as its last stage and
keeps their findings in ``Document.meta["checks"]`` (``[]`` when there are none); the FHIR
Bundle carries each finding on the resource it is about.

====================================  ===================================================
check                                 flags
====================================  ===================================================
``date_in_future``                    an entity's date after the note's date (else today)
``date_before_birth``                 an entity's date before the patient's birthDate
``dose_out_of_range``                 a dose outside its drug's plausible single dose by
                                      route (``data/dose_ranges.tsv``: coarse safety
                                      bounds, not dosing advice)
``unit_mismatch``                     a lab unit not of the kind its LOINC analyte is
                                      measured in (haemoglobin in mg)
``condition_refuted_and_confirmed``   one condition both negated and affirmed
``medication_started_and_stopped``    one medication both started and stopped
====================================  ===================================================

Checks flag only what they know: an unknown drug, a unit that is not UCUM, a date that cannot
be read give no finding. A finding's message names the entity's normalised values and codes
and character spans, never other words of the note.
"""

from clinex.plausibility.checks import CHECKS, run_checks
from clinex.plausibility.findings import Finding

__all__ = ["CHECKS", "Finding", "run_checks"]
