"""bakekit benchmarks: each case times bakekit against a baseline measured in the same run."""
