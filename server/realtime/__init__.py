"""Live delivery: the change-log tail, fan-out between instances, the websocket gateway."""
