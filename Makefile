# users-edge — every command a person or CI needs. Each target installs what it uses first.
.PHONY: setup build dev test lint test-host test-worker test-api test-scim bench bench-soak bench-size clean

setup:
	@bash scripts/setup.sh

build: setup
	@bash scripts/build.sh

## Run locally: wrangler dev on http://127.0.0.1:8787 with local D1 + KV, migrations applied,
## a demo org seeded and its API keys printed.
dev: setup
	@bash scripts/dev.sh

## Every test: host unit/pipeline tests, workerd tests on the built wasm, schemathesis, SCIM conformance.
test: setup lint
	cargo test --locked
	bash scripts/build.sh
	node --test --test-concurrency=1 --test-timeout=300000 tests/worker/
	bash scripts/schemathesis.sh
	bash scripts/scim-conformance.sh

## Formatting and lints, as CI runs them (rustfmt.toml; clippy on every target, warnings are errors).
lint: setup
	cargo fmt --check
	cargo clippy --locked --all-targets -- -D warnings
	# The bench's native timer builds on the library's API: keep it compiling with it.
	cargo check --quiet --manifest-path bench/pipeline-native/Cargo.toml

test-host:
	cargo test --locked

test-worker: build
	node --test --test-concurrency=1 --test-timeout=300000 tests/worker/

test-api: build
	bash scripts/schemathesis.sh

test-scim: build
	bash scripts/scim-conformance.sh

bench: build
	bash bench/run.sh

## The change feed's soak: N changes under load (SOAK_N, default 2000), every event delivered to a
## local signed-webhook receiver once per webhook-id; commit→delivery p50/p99 into BENCHMARKS.md.
bench-soak: build
	node bench/soak.mjs

## What each part of the product adds to the wasm: release builds without it, raw and gzip sizes.
bench-size:
	bash bench/size-ablation.sh

clean:
	rm -rf build target .state .wrangler
