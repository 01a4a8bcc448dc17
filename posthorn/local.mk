# posthorn build rules: the administrator's command (start, stop, check...).
# It shares master's listener code to probe inet ports in "check".
sbin_PROGRAMS += posthorn/posthorn
posthorn_posthorn_SOURCES = posthorn/posthorn.c master/master_listen.c master/master.h
posthorn_posthorn_LDADD = $(LDADD)
