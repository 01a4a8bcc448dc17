# postconf: shows and edits main.cf parameters, shows master.cf services.
sbin_PROGRAMS += postconf/postconf
postconf_postconf_SOURCES = postconf/postconf.c
