# conf build rules
