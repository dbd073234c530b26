"""Calibrated confidence: a fitted map from an extractor's raw score to the probability that a
fact is correct (same span and type as a careful annotator would mark).

- :mod:`clinex.calibration.calibrator`: the :class:`Calibrator` (curves per type), its file
  format, the calibrators shipped in ``data/`` and how a pipeline picks one (numpy only);
- :mod:`clinex.calibration.fitting`: fitting one on gold and predictions, and measuring one on
  held-out data (scikit-learn: ``pip install 'clinex[monitor]'``).
"""

from clinex.calibration.calibrator import Calibrator, Curve, load_calibrator, packaged_calibrators

__all__ = ["Calibrator", "Curve", "load_calibrator", "packaged_calibrators"]
