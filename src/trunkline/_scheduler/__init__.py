"""trunkline's scheduler core (see core.py); the public shell is trunkline.scheduler."""
