"""SMS: Twilio-format and generic signed JSON webhooks in, Twilio or an HTTP gateway out, STOP/START, segments."""
