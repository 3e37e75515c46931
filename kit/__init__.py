"""madoguchi core: settings, types, errors, and the one assembly point (services)."""

__version__ = "0.1.0"
