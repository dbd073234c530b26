"""Training the learned assertion layer (trainer ``assertion.v1``): ``config`` and ``trainer``."""
