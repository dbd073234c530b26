"""Fine-tuning the encoder tagger (trainer ``encoder.v1``).

``config`` (its options), ``data`` (letters → labelled token windows), ``lora`` (adapters),
``trainer`` (build, fit, score; its ``TRAINER`` is what the registry holds), ``export`` (the
shipped weights) and ``card`` (curve and model card). Only ``config`` imports no torch.
"""
