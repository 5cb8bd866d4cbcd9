"""Outbound channels: SMS and WhatsApp through Twilio, email through SMTP, and a console channel."""
