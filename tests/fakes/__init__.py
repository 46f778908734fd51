"""Fakes of outside services (Twilio) that the real client libraries talk to in tests."""
