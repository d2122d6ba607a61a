"""What the commands do, as library calls: run and compare policies, solve one epoch, generate
workloads, describe a file."""
