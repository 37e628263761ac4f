"""Notification: email rendering, the outbox and SMTP delivery."""
