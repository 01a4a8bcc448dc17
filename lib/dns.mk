# DNS through c-ares and the parser of remote SMTP server replies: used by
# the outbound delivery agent smtp(8).
lib_libposthorn_a_SOURCES += lib/dns.c lib/dns.h lib/smtp_reply.c lib/smtp_reply.h
