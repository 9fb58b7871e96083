"""``price_requests``: millions of requests priced at once as polars expressions.

May import the data rooms (:mod:`pricing._gpus`, :mod:`pricing._fx`, :mod:`pricing._cards`)
and below.
"""
