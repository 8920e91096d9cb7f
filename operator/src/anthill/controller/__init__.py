"""The operator: kopf handlers that route each kind to its reconciler (see :func:`anthill.controller.run.run`)."""
