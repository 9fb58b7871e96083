"""The exact Decimal path, the reference: one request on one offer, line by line.

May import the data rooms (:mod:`pricing._gpus`, :mod:`pricing._fx`, :mod:`pricing._cards`)
and below.
"""
