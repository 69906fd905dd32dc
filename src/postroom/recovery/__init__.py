"""``postroom recover``: messages dug out of logs, re-sent in order, safely repeatable.

The pipeline, one module per step:

- :mod:`.sources` reads lines (files, globs, directories, ``.gz``, stdin) with their position;
- :mod:`.formats` turns a line into a record (JSON lines, logfmt, a regular expression);
- :mod:`.mapping` says which record fields are the body, group, ids, time and attributes, and
  turns a record into a :class:`~.model.Recovered` message or a rejection with its reason;
- :mod:`.scan` runs that over every line and counts every outcome, so nothing is skipped silently;
- :mod:`.plan` collapses duplicates, orders, and fingerprints what will be sent;
- :mod:`.report` renders the dry-run report and the final summary;
- :mod:`.target`, :mod:`.sender`, :mod:`.checkpoint` send through the public SQS/SNS batch APIs,
  resumably.

It speaks only the public AWS APIs through boto3, so it works against postroom, moto and AWS.
"""
