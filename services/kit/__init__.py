"""TeamMoa's shared kit: the only code the services share.

Settings, database, errors, validation, logging, health, metrics, token verification,
service-to-service calls, events and rate limits. A service imports ``services.kit`` and
nothing of another service.
"""
