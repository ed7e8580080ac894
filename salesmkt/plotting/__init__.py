"""Plots over the outputs of the compute functions: data first, ``ax=None``, return the Axes."""
