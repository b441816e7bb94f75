# The benchmark (not a test): bench/RESULTS.md.
.PHONY: bench
bench: oktacred
	/usr/bin/python3 bench/run.py
