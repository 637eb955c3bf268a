# kedirivms: two set-up commands, each self-contained on a fresh machine.
#   make demo   virtual cameras + the library end to end on loopback
#   make test   dev deps + system test peers, then the test suite
PY ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
APT_PACKAGES := ffmpeg mosquitto chromium iproute2 gstreamer1.0-tools gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 \
	python3-gi gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly \
	gstreamer1.0-libav

.PHONY: demo test venv system-deps lint typecheck bench clean

$(STAMP): pyproject.toml
	test -x $(VPY) || $(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing test peers:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# make demo [SECONDS=70] [MQTT=mqtt://127.0.0.1:1883]
# make demo CLUSTER=1 [SECONDS=90]: 3-node NATS JetStream cluster, 3 workers, the centre; a worker is killed
demo: $(STAMP)
ifdef CLUSTER
	$(VPY) -m kedirivms.cluster.demo $(if $(SECONDS),--seconds $(SECONDS))
else
	$(VPY) -m kedirivms.demo $(if $(SECONDS),--seconds $(SECONDS)) $(if $(MQTT),--mqtt $(MQTT))
endif

test: $(STAMP) system-deps
	$(VPY) -m pytest -q -p no:cacheprovider

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(VPY) benchmarks/connect_many.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info
