"""Watching production batches: does this month's input and output still look like last month's?

``clinex monitor`` compares a CUR set of notes and extractions with a REF set on input signals
(note length, section headers, abbreviations, unknown words, a domain classifier), output
signals (facts per note per type, ICD-10-CM chapter mix, assertion mix, ungrounded share, LLM
parse failures, confidence) and a precision estimate without labels, each with a threshold and
a status; see :mod:`clinex.monitor.signals` for how a status is decided. Needs scipy and
scikit-learn (``pip install 'clinex[monitor]'``).
"""

from clinex.monitor.report import write_report
from clinex.monitor.run import MonitorReport, monitor
from clinex.monitor.sets import MonitorSet, load_set

__all__ = ["MonitorReport", "MonitorSet", "load_set", "monitor", "write_report"]
