"""Mind-map routes (filled in by the mind-map work)."""

routes: list = []
