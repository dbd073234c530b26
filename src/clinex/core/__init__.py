"""Core types, errors and registries. Imports nothing else from clinex."""
