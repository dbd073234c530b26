"""The encoder's precisions (fp32, bf16 autocast with fp32 outputs, int8, "auto") and batch padding."""

from __future__ import annotations

import pytest
import torch

import clinex
from clinex.core.errors import ConfigError
from clinex.extractors.encoder import EncoderExtractor, inference, precision
from clinex.extractors.encoder.inference import run_tagger

LETTER = (
    "DISCHARGE SUMMARY\n\nPRINCIPAL DIAGNOSES\n• Essential hypertension\n• Type 2 diabetes mellitus\n\n"
    "Medications:\n• Metformin 500 mg orally twice daily\n• Lisinopril 10 mg daily\n\n"
    "Labs:\n• Hemoglobin 13.1 g/dL\n• Creatinine 1.2 mg/dL\n"
)


def _engine(precision: str) -> EncoderExtractor:
    engine = clinex.load_extractor("encoder", precision=precision, threads=1)
    assert isinstance(engine, EncoderExtractor)
    return engine


def test_bf16_hands_fp32_outputs_to_decoding_and_finds_the_same_entities() -> None:
    fp32, bf16 = _engine("fp32"), _engine("bf16")
    assert (fp32.precision, bf16.precision) == ("fp32", "bf16")
    config = fp32.config
    [plain], [autocast] = (
        run_tagger(
            fp32.tagger, fp32.tokenizer, [LETTER], max_len=config.max_len, overlap=config.overlap, bf16=bf
        )
        for bf in (False, True)
    )
    assert autocast.label_probs.dtype == autocast.flag_logits.dtype == torch.float32
    # Autocast did run (bfloat16 rounding shows), and changed little.
    assert not torch.equal(plain.label_probs, autocast.label_probs)
    assert torch.allclose(plain.label_probs, autocast.label_probs, atol=0.05)
    spans = [
        [(e.type, e.start, e.end, e.code) for e in clinex.extract(LETTER, extractor=x).entities]
        for x in (fp32, bf16)
    ]
    assert spans[0] == spans[1] and ("medication", LETTER.index("Metformin")) in {s[:2] for s in spans[0]}


# torch 2.13 deprecates its quantised tensors (pytorch/pytorch#184982); int8 works until removed.
@pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor:UserWarning")
def test_int8_quantises_the_linear_layers() -> None:
    engine = _engine("int8")
    assert isinstance(engine.tagger.span_head, torch.ao.nn.quantized.dynamic.Linear)
    assert "Metformin" in {e.text for e in engine.extract(LETTER)}


@pytest.mark.parametrize(("native", "expected"), [(True, "bf16"), (False, "fp32")])
def test_auto_is_bf16_only_where_the_cpu_runs_it_natively(
    monkeypatch: pytest.MonkeyPatch, native: bool, expected: str
) -> None:
    monkeypatch.setattr(precision, "native_bf16", lambda: native)
    assert precision.resolve_precision("auto") == expected
    assert precision.resolve_precision("fp32") == "fp32" and precision.resolve_precision("bf16") == "bf16"


def test_unknown_precision_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="precision 'fp16'") as info:
        EncoderExtractor(precision="fp16")  # type: ignore[arg-type]
    assert "auto, fp32, bf16, int8" in (info.value.hint or "")


def test_batches_are_padded_to_few_widths_without_changing_the_outputs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = _engine("fp32")
    config = engine.config
    notes = [LETTER, LETTER * 3, LETTER * 7]  # one window, and several of two other lengths
    widths: list[int] = []
    hook = engine.tagger.register_forward_pre_hook(lambda _, args: widths.append(args[0].shape[1]))
    try:
        padded = run_tagger(
            engine.tagger, engine.tokenizer, notes, max_len=config.max_len, overlap=config.overlap
        )
        assert widths and all(w % 16 == 0 and w <= config.max_len for w in widths)
        monkeypatch.setattr(inference, "_WIDTH_STEP", 1)
        exact = run_tagger(
            engine.tagger, engine.tokenizer, notes, max_len=config.max_len, overlap=config.overlap
        )
    finally:
        hook.remove()
    assert any(w % 16 for w in widths[len(widths) // 2 :])  # the unpadded run had other widths
    for a, b in zip(padded, exact, strict=True):
        assert torch.allclose(a.label_probs, b.label_probs, atol=1e-5)
        assert torch.allclose(a.flag_logits, b.flag_logits, atol=1e-4)
