# sendmail: (fragment owned by the sendmail engineer; empty until the program lands)
