"""Reviewing extracted facts: decisions (accept, reject, correct, add) and how they change a
Document. No web framework here: the review service (clinex.service) is built on top."""

from clinex.review.apply import apply_decision
from clinex.review.model import ACTIONS, Decision

__all__ = ["ACTIONS", "Decision", "apply_decision"]
