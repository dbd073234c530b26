"""LLM backends, each registered lazily in clinex._builtins."""
