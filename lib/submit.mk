# Header address lists (RFC 5322), used by cleanup for sendmail -t and
# by sendmail -bv.  Owned by the sendmail engineer.
lib_libposthorn_a_SOURCES += lib/header_addr.c lib/header_addr.h

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_header_addr
TESTS += tests/unit/test_header_addr
tests_unit_test_header_addr_SOURCES = tests/unit/test_header_addr.c
tests_unit_test_header_addr_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_header_addr_LDADD = $(CMOCKA_LIBS) $(LDADD)
endif
