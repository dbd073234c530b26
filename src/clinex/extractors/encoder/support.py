"""One-word spans that nothing but the tagger supports: everyday words the tagger calls findings.

Trained on template letters, the tagger tags lone everyday words of real narrative as entities
— an adjective or adverb ("severe", "mainly"), a gerund, a body part ("liver"), a qualifier
("normal"). A real one-word finding is either named by its type's terminology ("fever",
"metformin", "hemoglobin"), written as an abbreviation ("CT", "NSTEMI"), given attributes of its
own ("weight 70 kg"), or a rare, technical word. So a span is dropped when it is

- one word of letters only, not written as an abbreviation, with no attribute but a date;
- a whole word of the tagger's own WordPiece vocabulary: its tokenizer keeps the commonest
  English words whole and cuts rarer, technical ones into pieces, so this is a frequency list
  that ships with the model;
- not supported by its type's terminology: for a condition, no ICD-10-CM name or synonym
  (nor a close spelling) and not a word that ICD-10-CM names are *about* — the head of a name,
  the last word before "of", "in", "with" or a comma ("pain" of "pain in right knee",
  "lesion", "infection"), as opposed to a word that only qualifies names ("severe", "left") or
  says where ("liver" of "abscess of liver"); for a lab, no LOINC name; for a medication, no
  RxNorm name; procedures have no terminology here, so every such one-word procedure counts as
  unsupported;
- and its tagger probability is below :data:`MAX_SCORE`.

Tumour spans are kept (their words are always technical). The thresholds were chosen on the
``fit`` half of MACCROBAT2020 (:func:`clinex.corpora.maccrobat_halves`; see
``benchmarks/narrative_precision.py``), never on the notes the figures are reported on.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from clinex.core.types import Entity
from clinex.terminology.base import Terminology

#: A span whose tagger probability is at least this is kept whatever its support (chosen on the
#: MACCROBAT fit half: precision gained per finding lost levels off above it).
MAX_SCORE = 0.95
#: A condition word is a finding head when at least this share of the ICD-10-CM names holding it
#: are about it (it is their head), and at least :data:`MIN_HEAD_NAMES` of them.
MIN_HEAD_SHARE = 0.2
MIN_HEAD_NAMES = 2
#: A lookup hit at least this good supports a span (a display, a synonym or a close respelling).
MIN_LOOKUP_SCORE = 0.8
#: Words that end the head phrase of a terminology name ("pain" | "in right knee").
_HEAD_END = frozenset(
    [
        "of",
        "in",
        "with",
        "without",
        "due",
        "to",
        "and",
        "or",
        "by",
        "from",
        "on",
        "at",
        "for",
        "as",
        "not",
        "other",
        "nos",
        "unspecified",
        "following",
        "during",
        "after",
        "involving",
    ]
)
#: A word of letters only (no digits, no underscore).
_WORD = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True, slots=True)
class Heads:
    """How often each word is the head of an ICD-10-CM name, and how often it appears in one."""

    heads: Counter[str]
    words: Counter[str]

    def is_head(self, word: str) -> bool:
        """Whether names holding ``word`` are mostly about it (see the module docstring)."""
        key = singular(word.casefold())
        named = self.heads[key]
        return named >= MIN_HEAD_NAMES and named >= MIN_HEAD_SHARE * self.words[key]


def singular(word: str) -> str:
    """A crude singular of a lower-case word ("nodules" → "nodule", "arteries" → "artery")."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def head_word(name: str) -> str | None:
    """The head of a terminology name: the last word before a comma or :data:`_HEAD_END` word."""
    head = None
    for word in _WORD.findall(name.split(",")[0].casefold()):
        if word in _HEAD_END:
            break
        head = word
    return singular(head) if head is not None else None


def _count_heads(terminology: Terminology) -> Heads:
    heads: Counter[str] = Counter()
    words: Counter[str] = Counter()
    for concept in terminology:
        for name in (concept.display, *concept.synonyms):
            words.update({singular(w) for w in _WORD.findall(name.casefold())})
            head = head_word(name)
            if head is not None:
                heads[head] += 1
    return Heads(heads, words)


#: Heads per terminology object (kept beside it, so that its id is not reused while cached).
_HEADS: dict[int, tuple[Terminology, Heads]] = {}


def heads_of(terminology: Terminology) -> Heads:
    """The name heads of a terminology (computed once per terminology and process)."""
    cached = _HEADS.get(id(terminology))
    if cached is None:
        cached = _HEADS[id(terminology)] = (terminology, _count_heads(terminology))
    return cached[1]


def is_abbreviation(word: str) -> bool:
    """Written as an abbreviation: capitals after the first letter ("CT", "NSTEMI", "mRNA")."""
    return any(c.isupper() for c in word[1:])


class SpanSupport:
    """Decides which entities of the tagger to keep (see the module docstring).

    Args:
        vocabulary: The whole words of the tagger's WordPiece vocabulary (lower case).
        terminologies: The terminology of each entity type that has one (``condition`` →
            ICD-10-CM, ``lab`` → LOINC, ``medication`` → RxNorm).
        max_score: Spans at or above this tagger probability are kept.
    """

    def __init__(
        self,
        vocabulary: Collection[str],
        terminologies: dict[str, Terminology],
        *,
        max_score: float = MAX_SCORE,
    ) -> None:
        self.vocabulary = frozenset(vocabulary)
        self.terminologies = terminologies
        self.max_score = max_score
        self._lookup: Callable[[str, str], bool] = functools.lru_cache(maxsize=16384)(self._named)

    def keep(self, entity: Entity) -> bool:
        """Whether ``entity`` is supported by more than the tagger's word alone."""
        word = entity.text
        if (
            entity.type == "tumor"
            or (entity.confidence is not None and entity.confidence >= self.max_score)
            or not _WORD.fullmatch(word)
            or is_abbreviation(word)
            or any(kind != "date" for kind in entity.attributes)
            or word.casefold() not in self.vocabulary
        ):
            return True
        return self._lookup(entity.type, word)

    def filter(self, entities: Sequence[Entity]) -> list[Entity]:
        """The entities :meth:`keep` keeps, in order."""
        return [e for e in entities if self.keep(e)]

    def _named(self, entity_type: str, word: str) -> bool:
        terminology = self.terminologies.get(entity_type)
        if terminology is None:
            return False
        hits = terminology.lookup(word, limit=1)
        if hits and hits[0].score >= MIN_LOOKUP_SCORE:
            return True
        return entity_type == "condition" and heads_of(terminology).is_head(word)


def wordpiece_words(tokenizer: object) -> frozenset[str]:
    """The whole words (no ``##`` piece, letters only) of a WordPiece tokenizer's vocabulary."""
    vocab: dict[str, int] = tokenizer.get_vocab()  # type: ignore[attr-defined]
    return frozenset(w for w in vocab if _WORD.fullmatch(w))
