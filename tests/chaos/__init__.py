"""An in-repo fault harness: real `patrol serve` processes, a load generator, faults, checks.

Run it with ``make test-chaos`` or ``python -m tests.chaos --help``; see docs/reliability.md.
"""
