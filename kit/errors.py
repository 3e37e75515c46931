"""The kit's small exception tree.

    KitError
    ├── ConfigError          bad or missing settings
    ├── ConnectorError       a source could not be read
    │   ├── FetchError       ... because fetching it failed (file missing, HTTP error)
    │   └── ParseError       ... because its bytes are not what they claim to be
    ├── StoreError           the index could not be read or written
    ├── InputError           a resident's or operator's input is unusable (empty, too long)
    └── AnswerError          no answer could be composed
        └── ModelUnavailable a model (embedder, LLM) cannot be loaded or reached

Library exceptions are mapped onto this tree where they enter the kit, so the
CLI and the API only ever need to turn a ``KitError`` into one clear line or
one JSON error, never a traceback.
"""

from __future__ import annotations


class KitError(Exception):
    """Base of every error the kit raises on purpose."""


class ConfigError(KitError):
    pass


class ConnectorError(KitError):
    pass


class FetchError(ConnectorError):
    pass


class ParseError(ConnectorError):
    pass


class StoreError(KitError):
    pass


class InputError(KitError):
    pass


class AnswerError(KitError):
    pass


class ModelUnavailable(AnswerError):
    pass
