# Tests: unit test programs are declared by the fragment of the code they
# test; end-to-end tests (pytest) and fuzzers are run by scripts/test-all.
include tests/unit/lib_core.mk
include tests/unit/lib_conf.mk
include tests/unit/lib_server.mk
EXTRA_DIST += tests/e2e tests/fuzz tests/bench \
	scripts/deps scripts/build scripts/dev-instance scripts/test-all .ci/run
# Directories in EXTRA_DIST are copied whole: drop build products.
dist-hook: dist-hook-tests
dist-hook-tests:
	rm -rf $(distdir)/tests/fuzz/build $(distdir)/tests/e2e/__pycache__ \
	    $(distdir)/tests/bench/__pycache__ $(distdir)/tests/e2e/.pytest_cache
.PHONY: dist-hook-tests
