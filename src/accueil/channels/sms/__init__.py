"""SMS: sending through an HTTP gateway today; inbound webhooks come with the messaging-channels work."""
