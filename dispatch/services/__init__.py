"""Services: the actions that run the flow; each takes a session first and never commits."""
