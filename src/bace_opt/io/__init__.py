"""Files in and out: the file schema, reading and checking instance and snapshot files, prices and
traces, the model catalog, generated workloads, documents and atomic writers."""
