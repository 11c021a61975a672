"""REBECA training package container (``python -m training.rebeca.train`` from the project root)."""
