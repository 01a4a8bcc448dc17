# posthorn build rules
