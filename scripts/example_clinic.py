"""The example clinic: the settings a clinic sets (README, "Configuration") with made-up values,
for the tests and the bench, so that both run the servers as a configured clinic would."""

from __future__ import annotations

from scripts.processes import free_port

# The clinic's own website, another origin than the assistant's: a page there embeds the widget.
CLINIC_SITE = f"http://localhost:{free_port()}"
TWILIO_AUTH_TOKEN = "test-auth-token-0123456789abcdef"
TWILIO_PUBLIC_URL = "https://assistant.clinic.example/webhooks/twilio/webhook"  # behind a proxy
CLINIC_ENV = {
    "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
    "TWILIO_WEBHOOK_URL": TWILIO_PUBLIC_URL,
    "SMS_SENDER_ID_SECRET": "test-sender-secret",
    "CLINIC_NAME": "Northgate Spine Clinic",
    "CLINIC_PHONE": "020 7946 0000",
    "EMERGENCY_NUMBER": "999",
    "ACTION_SERVER_TIMEOUT_SECONDS": "3",
    "CLINIC_SITE_ORIGINS": CLINIC_SITE,
}
