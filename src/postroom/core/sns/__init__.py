"""The pure rules of SNS: topics, subscriptions, filter policies, envelopes, fan-out effects,
archive and replay, mobile push, SMS and email notifications."""
