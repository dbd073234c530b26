import json
import random
from pathlib import Path
from typing import Any

import pytest
from rapidfuzz import fuzz, process

from clinex.core.errors import TerminologyError, UnknownNameError
from clinex.terminology import _index, load


def test_icd10cm_exact_synonym_and_fuzzy_lookup() -> None:
    icd = load("icd10cm")
    exact = icd.lookup("Essential (primary) hypertension")[0]
    assert (exact.concept.code, exact.kind, exact.score) == ("I10", "exact", 1.0)
    abbreviation = icd.lookup("t2dm")[0]
    assert (abbreviation.concept.code, abbreviation.kind) == ("E11.9", "synonym")
    inclusion = icd.lookup("chronic renal insufficiency")[0]  # an ICD inclusion term of N18.9
    assert (inclusion.concept.code, inclusion.kind) == ("N18.9", "synonym")
    fuzzy = icd.lookup("Type 2 diabetes melitus without complications")[0]
    assert fuzzy.kind == "fuzzy" and fuzzy.concept.code == "E11.9" and 0 < fuzzy.score < 0.95
    assert icd.lookup("zzzz qqqq xxxx") == []


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("hyperkalaemia", "E87.5"),  # British spelling
        ("oedema", "R60"),
        ("hemangiomas", "D18.0"),  # plural
        ("hypopion", "H20.05"),  # a misspelling of a word ICD-10-CM uses
        ("post-infarction angina", "I23.7"),  # joined
        ("type I diabetes mellitus", "E10"),  # roman numeral
        ("AA amyloidosis", "E85"),  # a modifier dropped
    ],
)
def test_icd10cm_fuzzy_lookup_reads_spelling_variants(text: str, code: str) -> None:
    match = load("icd10cm").lookup(text)[0]
    assert (match.concept.code, match.kind) == (code, "fuzzy")


@pytest.mark.parametrize(
    "text",
    [
        "Primary hypothyroidism",  # ≠ primary hyperparathyroidism
        "hypoventilation",  # ≠ hyperventilation
        "necrosis",  # ≠ neurosis
        "dysplasia",  # ≠ dysphasia
        "eye disorders",  # ≠ sleep disorders
        "Cerebral MRI",  # ≠ cerebral malaria
        "food",  # ≠ flood
    ],
)
def test_icd10cm_fuzzy_lookup_never_swaps_one_word_for_another(text: str) -> None:
    icd = load("icd10cm")
    assert isinstance(icd, _index.IndexedTerminology)
    # Character similarity alone finds the name in the comment; the word it swaps is another word.
    assert icd._similar(_index.normalise_term(text), 1)
    assert icd.lookup(text) == []


def test_icd10cm_holds_categories_and_billable_codes_with_displays() -> None:
    icd = load("icd10cm.v1")
    assert icd.get("E11") is not None and icd.get("E11.9") is not None
    concept = icd.get("I50.9")
    assert concept is not None and concept.display == "Heart failure, unspecified"
    assert icd.system == "http://hl7.org/fhir/sid/icd-10-cm"
    assert load("icd10cm") is icd  # cached


def test_loinc_and_rxnorm_subsets() -> None:
    loinc = load("loinc")
    assert loinc.lookup("Hgb")[0].concept.code == "718-7"
    assert loinc.lookup("creatinine")[0].concept.code == "2160-0"
    rxnorm = load("rxnorm")
    hits = rxnorm.lookup("furosemide", limit=20)
    assert any(h.concept.code == "313988" for h in hits)
    assert rxnorm.system == "http://www.nlm.nih.gov/research/umls/rxnorm"


def test_unknown_registry_name() -> None:
    with pytest.raises(UnknownNameError):
        load("snomed")


def test_user_csv_and_tsv(tmp_path: Path) -> None:
    csv_file = tmp_path / "local.csv"
    csv_file.write_text("code,display,synonyms\nX1,Widget fever,wf|widget pyrexia\nX2,Gadget pox,\n")
    terminology = load(csv_file)
    assert terminology.lookup("Widget Fever!")[0].concept.code == "X1"
    assert terminology.lookup("WF")[0].kind == "synonym"
    assert terminology.lookup("widget pyrexai")[0].kind == "fuzzy"
    assert terminology.lookup("gadget poks") == []  # a short word is not read as a misspelling
    tsv_file = tmp_path / "local.tsv"
    tsv_file.write_text("code\tdisplay\nY1\tThing one\n")
    assert load(str(tsv_file)).get("Y1") is not None


def test_user_codesystem(tmp_path: Path) -> None:
    resource = {
        "resourceType": "CodeSystem",
        "url": "http://example.org/cs",
        "name": "local",
        "concept": [
            {
                "code": "A",
                "display": "Alpha disease",
                "designation": [{"value": "alphosis"}],
                "concept": [{"code": "A.1", "display": "Alpha disease, mild"}],
            },
        ],
    }
    path = tmp_path / "cs.json"
    path.write_text(json.dumps(resource))
    terminology = load(path)
    assert terminology.system == "http://example.org/cs"
    assert terminology.lookup("alphosis")[0].concept.code == "A"
    assert terminology.get("A.1") is not None


@pytest.mark.parametrize(
    ("name", "content", "where"),
    [
        ("bad.csv", "code,display\nX1,One\nX2\n", "bad.csv:3"),
        ("nohead.csv", "id,name\n1,a\n", "nohead.csv:1"),
        ("empty.csv", "code,display\n,Nothing\n", "empty.csv:2"),
        ("bad.json", '{"resourceType": "CodeSystem",\n "url": ', "bad.json:2"),
        ("notcs.json", '{"resourceType": "ValueSet"}', "notcs.json"),
    ],
)
def test_malformed_user_files_name_file_and_line(tmp_path: Path, name: str, content: str, where: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(TerminologyError) as info:
        load(path)
    assert where in str(info.value)


def test_missing_user_file(tmp_path: Path) -> None:
    with pytest.raises(TerminologyError, match="not found"):
        load(tmp_path / "absent.csv")


def test_repeated_lookups_give_the_same_matches_and_scan_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = tmp_path / "local.csv"
    table.write_text("code,display,synonyms\nX1,Widget fever,wf\nX2,Widget fevers,\nX3,Gadget pox,\n")
    queries = [
        ("Widget fever", 5, True),
        ("WF", 5, True),
        ("widget feverr", 5, True),
        ("Widget Feverr!", 5, True),  # the same key as the one before
        ("widget feverr", 1, True),
        ("widget feverr", 5, False),
        ("nothing like it", 5, True),
    ]
    # A new terminology per query has an empty cache: the uncached answers.
    fresh = [load(table).lookup(text, limit=limit, fuzzy=fuzzy) for text, limit, fuzzy in queries]
    assert len(fresh[2]) == 2 and len(fresh[4]) == 1 and fresh[5] == [] and fresh[6] == []
    scans: list[str] = []
    extract = _index.process.extract

    def counting_extract(query: str, *args: Any, **kwargs: Any) -> Any:
        scans.append(query)
        return extract(query, *args, **kwargs)

    monkeypatch.setattr(_index.process, "extract", counting_extract)
    terminology = load(table)
    for _ in range(3):
        assert [terminology.lookup(t, limit=n, fuzzy=f) for t, n, f in queries] == fresh
    # Fuzzy scans: "widget feverr" at limit 5 and 1, "nothing like it"; exact hits need none.
    assert sorted(scans) == ["nothing like it", "widget feverr", "widget feverr"]
    terminology.lookup("widget feverr").clear()
    assert terminology.lookup("widget feverr") == fresh[2]


def test_fuzzy_search_among_keys_of_similar_length_finds_what_a_full_scan_finds(tmp_path: Path) -> None:
    rng = random.Random(7)
    words = ["fever", "fevers", "pain", "chest", "acute", "chronic", "renal", "failure", "heart", "of"]
    keys = list(dict.fromkeys(" ".join(rng.choices(words, k=rng.randint(1, 6))) for _ in range(3000)))
    # Equal similarity (24/28 = 18/21) to "chronic pain" at different lengths, the longer first.
    keys = ["chronic pain abc", "chronic p", *keys]
    table = tmp_path / "many.csv"
    table.write_text("code,display\n" + "".join(f"C{i},{key}\n" for i, key in enumerate(keys)))
    terminology = load(table)
    assert isinstance(terminology, _index.IndexedTerminology)
    # Typos of known keys: small words and many keys of one length make many equal scores.
    queries = [key[:i] + key[i + 1 :] for key in rng.sample(keys, 60) for i in [rng.randrange(len(key))]]
    queries += ["chronic pain", "chest pian", "acute renal failur", "x"]
    for query in queries:
        for limit in (1, 5, 50):
            full = process.extract(query, keys, scorer=fuzz.ratio, limit=limit, score_cutoff=85)
            assert terminology._similar(query, limit) == [(key, score) for key, score, _ in full]
