"""The service's routes, one module per resource: jobs, documents, facts, export, terminology,
extract (one note, nothing stored), ui."""
