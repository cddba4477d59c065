"""Stylizing: the Stylizer engine, tiled inference, and a stylize run's plan and batch of files."""
