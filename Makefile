# Relais: common tasks. `make help` lists them.
DB ?= postgres://127.0.0.1:5432/test?sslmode=disable

.PHONY: help run test test-race lint bench fuzz ci

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-10s %s\n", $$1, $$2}'

run: ## start the sandbox
	go run ./cmd/relais sandbox

test: ## the README's test command, with PostgreSQL
	RELAIS_TEST_DATABASE_URL=$(DB) go test ./...

test-race: ## tests of the concurrent packages under the race detector
	RELAIS_TEST_DATABASE_URL=$(DB) go test -race -short ./connectors/... ./mocks/... ./gateway/...

lint: ## vet, formatting, golangci-lint when installed
	go vet ./...
	test -z "$$(gofmt -l $$(git ls-files '*.go'))"
	command -v golangci-lint >/dev/null && golangci-lint run ./... || echo "golangci-lint not installed; skipped"

bench: ## Go benchmarks and the end-to-end delivery benchmark
	go test -run '^$$' -bench . -benchmem ./...
	go run ./cmd/relais bench deliver --store sqlite
	go run ./cmd/relais bench deliver --store postgres --dsn $(DB)

fuzz: ## run every fuzz target for 20s each
	@for pkg in $$(go list ./...); do \
	  for f in $$(go test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; go test -run '^$$' -fuzz "^$$f$$" -fuzztime 20s $$pkg || exit 1; \
	  done; \
	done

ci: ## what CI runs
	bash .ci/run
