"""`flowrun batch`: one execution per input row (mode `batch`), results in input order."""
