"""Outbound channels: SMS and WhatsApp through Twilio, email through SMTP, and a console channel.

base (message, result, errors, Channel protocol), twilio_channel (+ twilio_http, twilio_errors),
email_channel, console_channel, registry (channels_from_env), and helpers for templates and
webhooks: sms_text (GSM-7 / segments), signature (X-Twilio-Signature), opt_out (inbound replies).
Import the module you need; importing this package loads none of them (the SDK is slow to import).
"""
