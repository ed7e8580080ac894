"""Private helpers every layer may use: atomic writes, the chart style, quiet engine calls.

Nothing here knows about the business; everything above may import it.
"""
