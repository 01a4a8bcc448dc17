# postdrop: the set-group-id command that writes locally submitted mail
# into maildrop/ (fed by sendmail; see lib/maildrop.h).
sbin_PROGRAMS += postdrop/postdrop
postdrop_postdrop_SOURCES = postdrop/postdrop.c
