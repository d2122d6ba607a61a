"""Results of a run: per-job records and the summary, the columns of every output, the files and
the plots."""
