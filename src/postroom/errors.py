"""Domain errors.

These carry no wire codes: ``postroom.protocol.wire_errors`` maps each class to the
AWS error shape (code, HTTP status, query-protocol code). The class docstring is the
default message.
"""

from __future__ import annotations


class PostroomError(Exception):
    """An error in postroom."""

    sender_fault: bool = True

    def __init__(self, message: str | None = None) -> None:
        self.message = message if message is not None else (type(self).__doc__ or "").strip()
        super().__init__(self.message)


class InvalidParameterValue(PostroomError):
    """An invalid or out-of-range value was supplied for the input parameter."""


class MissingParameter(PostroomError):
    """A required parameter is missing."""


class MalformedInput(PostroomError):
    """The request body could not be parsed."""


class InvalidAttributeName(PostroomError):
    """The specified attribute doesn't exist."""


class InvalidAttributeValue(PostroomError):
    """A queue attribute value is invalid."""


class QueueDoesNotExist(PostroomError):
    """The specified queue does not exist."""


class QueueAlreadyExists(PostroomError):
    """A queue with this name already exists with different attributes."""


class QueueDeletedRecently(PostroomError):
    """You must wait 60 seconds after deleting a queue before you can create another queue with the same name."""


class ReceiptHandleIsInvalid(PostroomError):
    """The specified receipt handle isn't valid."""


class MessageNotInflight(PostroomError):
    """The specified message isn't in flight."""


class BatchEntryIdsNotDistinct(PostroomError):
    """Two or more batch entries in the request have the same Id."""


class TooManyEntriesInBatchRequest(PostroomError):
    """The batch request contains more entries than permissible."""


class EmptyBatchRequest(PostroomError):
    """The batch request doesn't contain any entries."""


class InvalidBatchEntryId(PostroomError):
    """The Id of a batch entry in a batch request doesn't abide by the specification."""


class BatchRequestTooLong(PostroomError):
    """The length of all the messages put together is more than the limit."""


class PurgeQueueInProgress(PostroomError):
    """Only one PurgeQueue operation on a queue is allowed every 60 seconds."""


class InvalidMessageContents(PostroomError):
    """The message contains characters outside the allowed set."""


class OverLimit(PostroomError):
    """The specified action violates a limit."""


class UnsupportedOperation(PostroomError):
    """Error code 400. Unsupported operation."""


class InvalidAction(PostroomError):
    """The action or operation requested is invalid."""


class ResourceNotFound(PostroomError):
    """One or more specified resources don't exist."""


class InvalidAddress(PostroomError):
    """The specified ID is invalid."""


class InvalidSecurity(PostroomError):
    """The request was not made over HTTPS or did not use SigV4 for signing."""


class AccessDenied(PostroomError):
    """Access to the resource is denied: another account's queue whose policy does not
    allow the caller the action."""


class ServiceUnavailable(PostroomError):
    """The request has failed due to a temporary failure of the server."""

    sender_fault = False


class InternalError(PostroomError):
    """The request processing has failed because of an unknown error, exception or failure."""

    sender_fault = False


# ---- Amazon SNS ------------------------------------------------------------------


class SnsError(PostroomError):
    """An error only Amazon SNS reports (SQS has no code for it)."""


class NotFound(SnsError):
    """Indicates that the requested resource does not exist."""


class InvalidParameter(SnsError):
    """Indicates that a request parameter does not comply with the associated constraints."""


class FilterPolicyLimitExceeded(SnsError):
    """Indicates that the number of filter polices in your Amazon Web Services account exceeds the limit."""


class SubscriptionLimitExceeded(SnsError):
    """Indicates that the customer already owns the maximum allowed number of subscriptions."""


class TopicLimitExceeded(SnsError):
    """Indicates that the customer already owns the maximum allowed number of topics."""


class AuthorizationError(SnsError):
    """Indicates that the user has been denied access to the requested resource."""


class TagLimitExceeded(SnsError):
    """Can't add more than 50 tags to a topic."""


# ---- Amazon SNS mobile push, SMS (issue #13) ---------------------------------------


class EndpointDisabled(SnsError):
    """Exception error indicating endpoint disabled."""


class PlatformApplicationDisabled(SnsError):
    """Exception error indicating platform application disabled."""


class OptedOut(SnsError):
    """Indicates that the specified phone number opted out of receiving SMS messages from your Amazon Web Services
    account."""


class UserError(SnsError):
    """Indicates that a request parameter does not comply with the associated constraints."""


class VerificationFailed(SnsError):
    """Indicates that the one-time password (OTP) used for verification is invalid."""


class SnsValidationError(SnsError):
    """Indicates that a parameter in the request is invalid."""
