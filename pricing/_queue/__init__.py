"""M/G/c queueing maths: Erlang C, latency quantiles, fleet sizing, a discrete-event check.

A leaf: may import only :mod:`pricing.errors`, the standard library, numpy and scipy.
"""
