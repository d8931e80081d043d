"""Secrets never survive into text meant for logs or people."""

from __future__ import annotations

import logging

from os_downloads.core.redact import get_logger, mask, redact, register_secret


def test_registered_secret_is_masked_anywhere_in_text():
    register_secret("trud-key-0123456789")
    text = "GET https://x/trud/api/v1/keys/trud-key-0123456789/items/341/releases failed"
    assert "trud-key-0123456789" not in redact(text)


def test_key_query_parameter_is_masked_even_when_unknown():
    assert redact("https://api.os.uk/downloads/v1/dataPackages?key=abcdef123&x=1") == (
        "https://api.os.uk/downloads/v1/dataPackages?key=****&x=1"
    )


def test_logger_redacts_formatted_arguments(caplog):
    register_secret("another-secret-value")
    with caplog.at_level(logging.INFO, logger="os_downloads.test"):
        get_logger("os_downloads.test").info("url %s", "https://h/?p=another-secret-value")
    assert "another-secret-value" not in caplog.text


def test_mask_shows_only_the_last_four_characters():
    assert mask("0123456789abcdef") == "****cdef"
    assert mask("short") == "****"
