"""madoguchi (窓口): an offline assistant that answers a town's residents from its own documents.

The source folders ``kit/``, ``connectors/``, ``ingest/``, ``ui/`` and ``eval/`` are
the sub-packages ``madoguchi.kit`` … ``madoguchi.eval``: the wheel maps them under this
one package (``pyproject.toml``), and in a checkout this folder links to them, so the
same import names work everywhere and nothing else is installed at the top level.
"""

__version__ = "0.2.0"
