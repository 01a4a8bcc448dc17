# Tests: unit test programs are declared by the fragment of the code they
# test; end-to-end tests (pytest) and fuzzers are run by scripts/test-all.
include tests/unit/lib_core.mk
include tests/unit/lib_conf.mk
include tests/unit/lib_server.mk
EXTRA_DIST += tests/e2e tests/fuzz tests/bench
