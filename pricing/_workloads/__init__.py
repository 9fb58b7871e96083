"""What a team will run: workload files, their demand curves and uncertain inputs.

May import the data rooms (:mod:`pricing._gpus`, :mod:`pricing._fx`, :mod:`pricing._cards`)
and below.
"""
