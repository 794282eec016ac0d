# The two set-up commands of the README:
#   make serve   install everything, index seeds/ if needed, serve on http://127.0.0.1:5000
#   make test    install everything (pip and Debian packages), run ruff and the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: serve test install install-test browser solr ocr

serve: install ocr
	$(BIN)/searchapp serve

test: install-test browser solr ocr
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

$(VENV)/.installed: setup.cfg setup.py pyproject.toml
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

# Headless Chromium and CJK fonts from Debian for the browser tests (Playwright drives
# /usr/bin/chromium; it never downloads a browser of its own).
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi 'noto.*cjk'; then \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

# Tesseract and its simplified-Chinese model from Debian, for scanned PDFs and page images
# (searchapp/ocr.py); without them such files are reported as not read, nothing else changes.
ocr:
	@if ! command -v tesseract >/dev/null || ! tesseract --list-langs 2>/dev/null | grep -qx chi_sim; then \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq tesseract-ocr tesseract-ocr-chi-sim >/dev/null; \
	fi

# The local SolrCloud launcher (solr/, tests marked `solr`): a JDK and Maven from Debian if
# missing, Solr's jars from Maven Central (cached in ~/.m2), built into solr/target/.
# Rebuilt when solr/ changes or a jar of the class path has gone from the cache.
SOLR_BUILT := solr/target/classpath.txt

solr: $(SOLR_BUILT)
	@for jar in $$(tr ':' ' ' < $(SOLR_BUILT)); do \
		[ -f "$$jar" ] || { rm -f $(SOLR_BUILT); $(MAKE) --no-print-directory $(SOLR_BUILT); break; }; \
	done

$(SOLR_BUILT): solr/pom.xml $(shell find solr/src -type f 2>/dev/null)
	@if ! command -v javac >/dev/null || ! command -v mvn >/dev/null; then \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq default-jdk-headless maven >/dev/null; \
	fi
	cd solr && mvn -B -q -Dstyle.color=never compile
	touch $@
