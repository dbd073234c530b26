"""The components that ship with clinex, registered lazily (nothing heavy is imported here)."""

from clinex.core.registry import (
    engines,
    exporters,
    extractors,
    letter_writers,
    llm_backends,
    terminologies,
    trainers,
)

extractors.register("rules.v2", "clinex.extractors.rules:RulesExtractor")
extractors.register("encoder.v2", "clinex.extractors.encoder:EncoderExtractor")
extractors.register("llm.v2", "clinex.extractors.llm:LLMExtractor")

llm_backends.register("transformers.v1", "clinex.llm.backends.transformers:TransformersBackend")
llm_backends.register("llamacpp.v1", "clinex.llm.backends.llamacpp:LlamaCppBackend")
llm_backends.register("openai.v1", "clinex.llm.backends.openai_compat:OpenAICompatBackend")

terminologies.register("icd10cm.v1", "clinex.terminology.icd10cm:load")
terminologies.register("loinc.v1", "clinex.terminology.loinc:load")
terminologies.register("rxnorm.v1", "clinex.terminology.rxnorm:load")

letter_writers.register("template.v1", "clinex.synth.writers.template:TemplateWriter")
letter_writers.register("llm.v1", "clinex.synth.writers.llm:LLMWriter")

exporters.register("fhir.v1", "clinex.fhir.bundle:document_to_bundle")
exporters.register("jsonl.v1", "clinex.core.serialize:document_to_record")

trainers.register("encoder.v1", "clinex.train.encoder.trainer:TRAINER")
trainers.register("assertion.v1", "clinex.train.assertion.trainer:TRAINER")

engines.register("local.v1", "clinex.batch.local:run_batch")
