"""One factory turns a key (and secret) into credentials for the CLI, sync, Processing, the dock."""

from __future__ import annotations

from os_downloads.core.api.auth import ApiKeyAuth, OAuth2ClientCredentials, make_auth
from os_downloads.core.api.client import OSDownloadsClient
from os_downloads.core.net.retry import RetryPolicy
from os_downloads.core.redact import redact

FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, max_total_wait=2.0)


def test_no_key_means_no_credentials():
    assert make_auth(None) is None
    assert make_auth("  ", "secret-without-a-key") is None


def test_a_key_alone_is_sent_as_the_key_header(replica):
    auth = make_auth(f"  {replica.api_key} ")
    assert isinstance(auth, ApiKeyAuth)
    with OSDownloadsClient(replica.api_url, auth=auth, retry=FAST) as client:
        assert client.data_packages()
    assert replica.api_key not in redact(f"key={replica.api_key}")


def test_a_key_with_a_secret_gets_an_oauth2_token(replica):
    auth = make_auth(replica.api_key, replica.api_secret)
    assert isinstance(auth, OAuth2ClientCredentials)
    with OSDownloadsClient(replica.api_url, auth=auth, retry=FAST) as client:
        assert client.data_packages()
    assert replica.api_secret not in redact(f"secret {replica.api_secret}")


def test_an_explicit_token_url_is_kept():
    auth = make_auth("k3y-value", "s3cret-value", token_url="http://127.0.0.1:9/token")
    assert isinstance(auth, OAuth2ClientCredentials)
    assert auth.token_url == "http://127.0.0.1:9/token"
