# lib/: code shared by every program, one abstraction per file.  Each
# group's fragment appends its sources.
noinst_LIBRARIES += lib/libposthorn.a
lib_libposthorn_a_SOURCES = lib/mail_proto.c lib/mail_proto.h lib/master_proto.h \
	lib/cleanup_client.c lib/cleanup_client.h
include lib/core.mk
include lib/conf.mk
include lib/server.mk
include lib/addr.mk
include lib/bounce.mk
include lib/dns.mk
include lib/submit.mk
include lib/maildrop.mk
