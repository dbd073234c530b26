"""LLM plumbing for the ``llm`` extractor: backends, versioned prompts, the answer schema, parsing."""
