"""Exact noise-averaged solutions (Lindblad and the stepper's mean), used to validate the engines."""
