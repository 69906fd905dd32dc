"""The pure rules of SQS: queue attributes and their changes, redrive, delivery, validation."""
