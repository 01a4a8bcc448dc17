# Mail address parsing.
lib_libposthorn_a_SOURCES += lib/mail_addr.c lib/mail_addr.h
