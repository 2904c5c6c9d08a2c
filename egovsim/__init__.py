"""egovsim: a local, faithful simulator of Kazakhstan's e-government service chain.

The kernel package: settings, the simulated clock and Kazakhstan calendar, storage, the trace
journal, the service and refusal catalogues, and the composition root (:mod:`egovsim.app`).
"""

__version__ = "0.1.0"
