# Maildrop files: the format postdrop writes and pickup and showq read.
# Owned by the postdrop/pickup engineer.
lib_libposthorn_a_SOURCES += lib/maildrop.c lib/maildrop.h

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_maildrop
TESTS += tests/unit/test_maildrop
tests_unit_test_maildrop_SOURCES = tests/unit/test_maildrop.c
tests_unit_test_maildrop_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_maildrop_LDADD = $(CMOCKA_LIBS) $(LDADD)
endif
