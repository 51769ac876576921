"""What the messaging channels (SMS, WhatsApp, social networks) share: outbound delivery and its statuses."""
