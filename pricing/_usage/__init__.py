"""Usage logs: reading them, replaying them at their own dates, budgets and FOCUS.

May import the engine rooms (:mod:`pricing._vector`, :mod:`pricing._quote`,
:mod:`pricing._workloads`), :mod:`pricing._dataset` and below; never its siblings
:mod:`pricing._selfhost` or :mod:`pricing._refresh`.
"""
