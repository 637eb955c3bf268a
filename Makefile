# kedirivms: two set-up commands, each self-contained on a fresh machine.
#   make demo   virtual cameras + the library end to end on loopback
#   make test   dev deps + system test peers, then the test suite
PY ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# a second venv with a plain `pip install .` (no dev extras): the CLI smoke test fails if a runtime import is undeclared
PLAIN := .venv-plain
PLAIN_STAMP := $(PLAIN)/.installed
PLAIN_SRC_STAMP := $(PLAIN)/.installed-src
SRC_FILES := $(shell find src -type f \( -name '*.py' -o -name 'py.typed' \) 2>/dev/null)
APT_PACKAGES := ffmpeg mosquitto chromium iproute2 gstreamer1.0-tools gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 \
	python3-gi gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly \
	gstreamer1.0-libav

FOOTAGE := .cache/footage/vtest.avi

.PHONY: demo test venv plain-smoke system-deps footage lint typecheck bench clean

$(STAMP): pyproject.toml
	test -x $(VPY) || $(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# dependencies once per pyproject change; the package itself (no deps, seconds) once per source change
$(PLAIN_STAMP): pyproject.toml
	test -x $(PLAIN)/bin/python || $(PY) -m venv $(PLAIN)
	$(PLAIN)/bin/python -m pip install -q --upgrade pip
	$(PLAIN)/bin/python -m pip install -q .
	touch $(PLAIN_STAMP) $(PLAIN_SRC_STAMP)

$(PLAIN_SRC_STAMP): $(PLAIN_STAMP) $(SRC_FILES)
	$(PLAIN)/bin/python -m pip install -q --no-deps --force-reinstall .
	touch $(PLAIN_SRC_STAMP)

plain-smoke: $(PLAIN_SRC_STAMP)
	$(PLAIN)/bin/python tests/cli_smoke.py

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing test peers:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# Real CCTV for the queue-analytics accuracy tests: OpenCV's vtest.avi from Debian's opencv-doc package
# (Apache-2.0 AND BSD-3-Clause), taken out of the .deb without installing its 270 MB of documentation.
footage: $(FOOTAGE)

$(FOOTAGE):
	mkdir -p $(dir $(FOOTAGE))
	cd $(dir $(FOOTAGE)) && rm -f opencv-doc_*.deb && \
	  { apt-get download opencv-doc >/dev/null 2>&1 || { apt-get update -qq && apt-get download opencv-doc >/dev/null; }; } && \
	  dpkg-deb --fsys-tarfile opencv-doc_*.deb | tar -xO ./usr/share/doc/opencv-doc/examples/data/vtest.avi > vtest.avi.part && \
	  mv vtest.avi.part vtest.avi && rm -f opencv-doc_*.deb

# make demo [SECONDS=70] [MQTT=mqtt://127.0.0.1:1883]
# make demo CLUSTER=1 [SECONDS=90]: 3-node NATS JetStream cluster, 3 workers, the centre; a worker is killed
demo: $(STAMP)
ifdef CLUSTER
	$(VPY) -m kedirivms.cluster.demo $(if $(SECONDS),--seconds $(SECONDS)) $(if $(HTTP),--http $(HTTP))
else
	$(VPY) -m kedirivms.demo $(if $(SECONDS),--seconds $(SECONDS)) $(if $(MQTT),--mqtt $(MQTT)) $(if $(HTTP),--http $(HTTP))
endif

test: $(STAMP) system-deps footage plain-smoke
	$(VPY) -m pytest -q -p no:cacheprovider --durations=20 -n 4 --dist loadfile

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/mypy

bench: $(STAMP) footage
	test -d .bench-deps/onvif || $(VPY) -m pip install -q --target .bench-deps onvif-zeep-async
	$(VPY) benchmarks/connect_many.py
	$(VPY) benchmarks/connect_slow_servers.py
	$(VPY) benchmarks/queue_accuracy.py --clip $(FOOTAGE) --truth tests/data/footage/vtest.truth.json

clean:
	rm -rf $(VENV) $(PLAIN) build dist src/*.egg-info
