"""Demo data for Patrol: ``seed_demo`` fills an empty database deterministically."""

from .demo import DEMO_LOGINS, DEMO_PASSWORD, SeedSummary, is_empty, seed_demo

__all__ = ["DEMO_LOGINS", "DEMO_PASSWORD", "SeedSummary", "is_empty", "seed_demo"]
