"""Self-hosted fleets: dedicated, autoscaled and serverless GPU time, and set-ups.

May import the engine rooms below it, the data rooms and :mod:`pricing._queue`; never its
siblings :mod:`pricing._usage` or :mod:`pricing._refresh`.
"""
