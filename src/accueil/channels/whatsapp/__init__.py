"""WhatsApp Business through Meta's Cloud API: signed webhooks in, the 24-hour window, templates, Graph API out."""
