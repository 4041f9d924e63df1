# Shortcuts. The two quick-start commands are `python3 dev.py run` and `python3 dev.py test`;
# `make bench` runs the benchmark (issue #6) and rewrites BENCHMARKS.md and bench/latency.png.
PYTHON ?= .venv/bin/python
BENCH_ARGS ?=

.PHONY: run test bench bench-report

run:
	python3 dev.py run

test:
	python3 dev.py test

# wrk comes from Debian's package; installed here when missing and we are root, else bench/run.py says how.
bench:
	@command -v wrk >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
	@[ -x $(PYTHON) ] || { echo "No $(PYTHON): run 'python3 dev.py test' once to create .venv"; exit 2; }
	@$(PYTHON) -c "import matplotlib, tqdm" 2>/dev/null || $(PYTHON) -m pip install -q -r requirements-dev.txt
	$(PYTHON) bench/run.py $(BENCH_ARGS)

# Re-render BENCHMARKS.md and the plot from bench/results.json without running anything.
bench-report:
	$(PYTHON) bench/run.py --report-only
