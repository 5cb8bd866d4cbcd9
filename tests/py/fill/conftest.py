"""Fill-engine fixtures: the Twilio stand-in from the channel tests."""

from channels.twilio_standin import twilio_standin as twilio_standin
