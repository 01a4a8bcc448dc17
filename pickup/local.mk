# pickup: (fragment owned by the pickup engineer; empty until the program lands)
