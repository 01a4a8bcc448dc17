# postsuper: queue maintenance (delete, hold, release, requeue, structure
# check and repair, purge of stale temporary files) and its unit tests.
sbin_PROGRAMS += postsuper/postsuper
postsuper_postsuper_SOURCES = postsuper/postsuper.c postsuper/postsuper_util.c \
	postsuper/postsuper.h

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_postsuper
TESTS += tests/unit/test_postsuper
tests_unit_test_postsuper_SOURCES = tests/unit/test_postsuper.c postsuper/postsuper_util.c
tests_unit_test_postsuper_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) -I$(srcdir)/postsuper
tests_unit_test_postsuper_LDADD = $(CMOCKA_LIBS) $(LDADD)
endif
