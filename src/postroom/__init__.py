"""postroom: a durable message bus that speaks the AWS SNS and SQS wire APIs."""

__version__ = "0.1.0"
