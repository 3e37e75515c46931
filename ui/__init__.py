"""Serving: the FastAPI app, the resident widget and the staff admin screen."""
