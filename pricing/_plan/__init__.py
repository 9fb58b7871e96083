"""The orchestrator: simulate a workload, break-even, Monte Carlo and the summaries.

May import every room below it; never :mod:`pricing._charts` or :mod:`pricing.cli`.
"""
