"""Reviewing extracted facts: decisions (accept, reject, correct, add) and how they change a
Document, the review policy (which facts a person must decide, which the system may accept),
the code picker and check, per-reviewer views and agreement, and the gold export. Pure library
code, no database and no web framework: the store (clinex.store) and the review service
(clinex.service) are built on top. The FHIR side of a review is clinex.fhir.review."""

from clinex.review.agreement import agreement, kappa
from clinex.review.apply import apply_decision
from clinex.review.codes import check as check_code
from clinex.review.codes import search as search_codes
from clinex.review.export import gold_record, gold_records, refuse_open, to_jsonl
from clinex.review.model import (
    ACTIONS,
    REVIEW_STATUSES,
    STATUS_AFTER,
    SYSTEM_REVIEWER,
    Decision,
    DecisionRecord,
    Fact,
)
from clinex.review.policy import FactReview, ReviewPolicy, open_reviews
from clinex.review.views import ReviewerView, reviewer_view, reviewers, views_by_reviewer

__all__ = [
    "ACTIONS",
    "REVIEW_STATUSES",
    "STATUS_AFTER",
    "SYSTEM_REVIEWER",
    "Decision",
    "DecisionRecord",
    "Fact",
    "FactReview",
    "ReviewPolicy",
    "ReviewerView",
    "agreement",
    "apply_decision",
    "check_code",
    "gold_record",
    "gold_records",
    "kappa",
    "open_reviews",
    "refuse_open",
    "reviewer_view",
    "reviewers",
    "search_codes",
    "to_jsonl",
    "views_by_reviewer",
]
