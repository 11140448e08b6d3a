# The council governance function app. `make run` and `make test` do all
# set-up themselves on a fresh machine (Go and Node must be installed).

GO          ?= go
VERSION     ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -s -w -X main.version=$(VERSION)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
LOCAL       := .local
WITH_AZURITE := infra/local/with-azurite.sh
# Race detection costs build time; CI's budget allows it for every package.
RACE        ?= -race

.PHONY: all build package run test lint fmt-check vet staticcheck azurite azurite-stop bench fuzz audit infra-check clean settings deploy docs package-check

all: build

## build: the handler for this machine, in bin/
build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/handler ./functions

## package: stage dist/ as the Functions host expects it (linux/amd64 handler)
package: build
	rm -rf dist && mkdir -p dist
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/handler ./functions
	chmod 0755 dist/handler
	cp host.json dist/host.json
	bin/handler stage dist
	@echo "staged dist/: host.json, handler, $$(ls -d dist/*/ | wc -l) function folders"

## run: Azurite + the local Functions host on http://127.0.0.1:7071 (Ctrl-C stops all)
run: build
	rm -rf $(LOCAL)/app && mkdir -p $(LOCAL)/app
	cp host.json bin/handler $(LOCAL)/app/
	bin/handler stage $(LOCAL)/app
	$(WITH_AZURITE) bin/handler host -app $(LOCAL)/app -settings infra/local/local.settings.json

## test: everything CI checks: format, vet, staticcheck, tests (race) against Azurite, infra
test: fmt-check vet staticcheck
	GOVKIT_REQUIRE_AZURITE=1 AZURITE_IN_MEMORY=1 $(WITH_AZURITE) $(GO) test $(RACE) -count=1 -timeout 20m ./...
	$(MAKE) infra-check
	$(MAKE) package-check

## package-check: stage dist/, zip it as make deploy would, and check the zip
package-check: package
	DRY_RUN=1 DRY_RUN_OUT=$(LOCAL)/app.zip infra/scripts/deploy.sh
	python3 infra/local/check-package.py $(LOCAL)/app.zip $$(bin/handler functions)

lint: fmt-check vet staticcheck

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './infra/*/node_modules/*'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

staticcheck:
	$(GO) run $(STATICCHECK) ./...

## infra-check: Bicep syntax and structure (tree-sitter-bicep)
infra-check:
	@if [ -x infra/check/check.sh ]; then infra/check/check.sh; else echo "infra-check: no infra/check/check.sh yet"; fi

## deploy: zip dist/ (handler 0755) and push it to the Flex app (az CLI; target from env or azd outputs)
deploy: package
	infra/scripts/deploy.sh

## bench: the README's benchmarks at the sizes it quotes; prints their table (also .local/bench.md)
bench:
	GOVKIT_REQUIRE_AZURITE=1 AZURITE_IN_MEMORY=1 $(WITH_AZURITE) infra/local/bench.sh

## fuzz: run each fuzz target for FUZZTIME (make test runs only their seeds)
FUZZTIME    ?= 15s
FUZZ_TARGETS := \
	shared/funcapp:FuzzDecodeInvocation shared/funcapp:FuzzDecodeJSON \
	shared/contracts:FuzzParseCSV shared/contracts:FuzzContractJSON \
	shared/subjectrequests:FuzzCreateInput shared/subjectrequests:FuzzEventInput \
	shared/sharepoint:FuzzParseNotifications shared/sharepoint:FuzzDecodeChange \
	shared/ukdates:FuzzLoadCalendar shared/localhost:FuzzParseSchedule shared/notify:FuzzDecode
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; echo "== $$fn ($$pkg, $(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) ./$$pkg; \
	done

## audit: known vulnerabilities in the module and its dependencies. Needs
## internet access (govulncheck fetches its database from vuln.go.dev), so it
## is not part of make test; run it where the network allows.
audit:
	$(GO) run golang.org/x/vuln/cmd/govulncheck@latest ./...

## settings: print every setting as a Markdown table
settings:
	@$(GO) run ./functions settings

## docs: regenerate the README's settings and access tables from the code
docs:
	$(GO) run ./functions settings > $(LOCAL)/settings.md
	python3 infra/local/replace-block.py README.md settings $(LOCAL)/settings.md
	$(GO) run ./functions access > $(LOCAL)/access.md
	python3 infra/local/replace-block.py README.md access $(LOCAL)/access.md

azurite:
	infra/local/azurite.sh start

azurite-stop:
	infra/local/azurite.sh stop

clean:
	rm -rf bin dist $(LOCAL)/app
