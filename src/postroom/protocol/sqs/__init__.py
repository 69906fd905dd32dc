"""SQS on the wire: AWS JSON 1.0 and query requests dispatched to their handlers."""
