"""Letter writers: sampled facts → a letter with span-exact gold entities."""

from clinex.synth.writers.base import Letter, LetterWriter

__all__ = ["Letter", "LetterWriter"]
