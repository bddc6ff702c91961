"""The service's route handlers, one module per area."""
