"""The encoder extractor: a fine-tuned MiniLM token classifier shipped with clinex (CPU)."""

from clinex.extractors.encoder.extractor import EncoderExtractor

__all__ = ["EncoderExtractor"]
