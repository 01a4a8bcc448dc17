# smtpd build rules
