"""Parameters -> operators: the XXZ chain and its free-fermion form (numpy, scipy and QuSpin only)."""
