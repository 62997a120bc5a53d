# make build    flywheel and flywheel-agent in bin/, as a release builds them
# make release  archives for each of PLATFORMS in dist/, with SHA256SUMS
# make test     the test suite (README.md, "Test it")
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
PLATFORMS ?= linux/amd64 linux/arm64

.PHONY: build release test clean

build:
	VERSION=$(VERSION) COMMIT=$(COMMIT) packaging/build.sh bin

release:
	rm -rf dist
	for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; name=flywheel_$(VERSION)_$${os}_$${arch}; \
		GOOS=$$os GOARCH=$$arch VERSION=$(VERSION) COMMIT=$(COMMIT) packaging/build.sh dist/$$name || exit 1; \
		cp LICENSE README.md CHANGELOG.md packaging/*.service dist/$$name/ || exit 1; \
		tar -C dist -czf dist/$$name.tar.gz $$name || exit 1; \
	done
	cd dist && sha256sum *.tar.gz > SHA256SUMS

test:
	go test ./...

clean:
	rm -rf bin dist
