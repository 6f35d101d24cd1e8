"""Shipped hardware profiles: one TOML file per profile, found with ``importlib.resources``."""
