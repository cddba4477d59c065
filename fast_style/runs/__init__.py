"""A launch of fast-style-train around the learning: its Hydra config and mistakes, folders, lock, resume, event files,
ranks."""
