"""Connectors: one module per source kind; each yields SourceDocuments and never touches the store."""
