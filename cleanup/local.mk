# cleanup build rules
