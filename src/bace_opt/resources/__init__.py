"""What is free: the ledger of free GPUs and residual bandwidth, and the feasibility rules a
placement must meet against it."""
