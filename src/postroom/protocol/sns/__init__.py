"""SNS (and STS GetCallerIdentity) on the wire: query requests dispatched to their handlers."""
