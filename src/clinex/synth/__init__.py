"""Synthetic discharge letters from structured FHIR data, with span-exact gold.

from clinex.synth import SynthConfig, generate_dataset
card = generate_dataset(SynthConfig(out_dir=Path("out/synth"), letters=100, synthea=20))
"""

from clinex.synth.dataset import SynthConfig, generate_dataset, load_letters
from clinex.synth.facts import Fact, SampledFacts
from clinex.synth.sampler import SamplerConfig
from clinex.synth.writers.base import Letter, LetterWriter

__all__ = [
    "Fact",
    "Letter",
    "LetterWriter",
    "SampledFacts",
    "SamplerConfig",
    "SynthConfig",
    "generate_dataset",
    "load_letters",
]
