# postcat: shows queue files in human-readable form, and its unit tests.
sbin_PROGRAMS += postcat/postcat
postcat_postcat_SOURCES = postcat/postcat.c postcat/postcat_print.c postcat/postcat.h

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_postcat
TESTS += tests/unit/test_postcat
tests_unit_test_postcat_SOURCES = tests/unit/test_postcat.c postcat/postcat_print.c
tests_unit_test_postcat_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) -I$(srcdir)/postcat
tests_unit_test_postcat_LDADD = $(CMOCKA_LIBS) $(LDADD)
endif
