"""fast-style: train feed-forward style-transfer networks and run them in real time."""

__version__ = "0.2.0"
