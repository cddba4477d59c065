"""fast-style-serve: the web app and HTTP API, the process that serves it, the host names it answers to, its page."""
