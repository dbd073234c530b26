"""Versioned prompt templates (``extract.v1.jinja``, ...) and few-shot examples; never edited in place once released."""
