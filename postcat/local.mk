# postcat: (fragment owned by the postcat engineer; empty until the program lands)
