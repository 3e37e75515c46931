"""Evaluation: datasets, metrics, runs, reports and benchmarks. Import as ``from eval import ...``."""
