"""Evidence: the grade and flags of every price, and the trust policy that decides which
prices may set an answer (DESIGN.md, "Evidence")."""
