"""The TRUD client against the replica's TRUD origin: lists, models, errors, the key kept secret."""

from __future__ import annotations

import json
import logging

import pytest

from os_downloads.core.errors import (
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    NotFoundError,
    describe,
)
from os_downloads.core.net.retry import RetryPolicy
from os_downloads.core.redact import redact
from os_downloads.core.sources.trud.client import TrudClient, TrudRelease, parse_item
from os_downloads.replica.server.trud import TRUD_API_KEY, TRUD_DISABLED_KEY, api_url, restore
from os_downloads.replica.server.trud import publish_next_release as publish

FAST = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05)


@pytest.fixture()
def trud(replica):
    return TrudClient(TRUD_API_KEY, api_url(replica), retry=FAST)


def test_lists_an_items_releases_newest_first_with_every_field(trud):
    releases = trud.releases(58)
    assert [r.name for r in releases] == ["Release 5.2.0", "Release 5.1.0", "Release 5.0.0"]
    newest = releases[0]
    assert newest.id == newest.archive.file_name == "nhs_odsweekly_5.2.0_20250508000001.zip"
    assert newest.release_date == "2025-05-08"
    assert newest.archive.size and newest.archive.size > 1000
    assert (
        len(newest.archive.sha256) == 64 and newest.archive.sha256 == newest.archive.sha256.lower()
    )
    assert newest.archive.last_modified == "2025-05-07T08:51:21.000Z"
    assert newest.checksum_file.file_name == "trud_nhs_odsweekly_5.2.0_20250508000001.xml"
    # TRUD's list names the signature .sig while its URL serves .xml.asc: keep the URL's name.
    assert newest.signature_file.file_name.endswith(".sig")
    assert newest.signature_save_name == "trud_nhs_odsweekly_5.2.0_20250508000001.xml.asc"
    assert newest.public_key_file.file_name == "trud-public-key-2013-04-01.pgp"
    assert newest.public_key_id == 6
    assert newest.has_signature_chain


def test_latest_asks_for_only_the_newest(trud, replica):
    latest = trud.releases(341, latest=True)
    assert [r.name for r in latest] == ["Release 8.0.0"]
    assert trud.release(341).id == latest[0].id
    assert replica.requests("trud")[-1]["query"] == "latest"


def test_a_release_by_id_or_archive_name_and_a_missing_one(trud):
    assert trud.release(14, "DIAGIMG_29.0.0_20250401000001").name == "Release 29.0.0"
    assert trud.release(58, "nhs_odsweekly_5.0.0_20250424000001.zip").release_date == "2025-04-24"
    with pytest.raises(NotFoundError) as caught:
        trud.release(58, "nhs_odsweekly_9.9.9.zip")
    assert "Item 58 has no release 'nhs_odsweekly_9.9.9.zip'" in describe(caught.value)


def test_older_releases_without_integrity_files_and_legacy_ids(trud):
    old = trud.releases(14)[-1]
    assert old.id == "DIAGIMG_29.0.0_20250401000001"
    assert old.checksum_file is None and old.signature_file is None and old.public_key_file is None
    assert not old.has_signature_chain
    assert [f.file_name for f in old.remote_files()] == ["nhs_diagimg_29.0.0_20250401000001.zip"]


def test_models_tolerate_missing_and_unknown_fields():
    release = TrudRelease.from_json({"archiveFileName": "x.zip", "somethingNew": 1}, 7)
    assert (release.id, release.name, release.archive.file_name, release.size) == (
        "x.zip",
        "x.zip",
        "x.zip",
        None,
    )
    assert release.signature_save_name is None and release.public_key_id is None


def test_a_bad_key_says_so(replica):
    client = TrudClient("not-a-real-trud-key-123456", api_url(replica), retry=FAST)
    with pytest.raises(BadRequestError) as caught:
        client.releases(58)
    text = describe(caught.value)
    assert "TRUD did not accept the API key (HTTP 400)" in text
    assert "TRUD account page" in text
    assert "not-a-real-trud-key-123456" not in text + caught.value.url


def test_a_key_with_characters_quoted_in_the_url_is_masked_there_too(replica):
    key = "pasted+key/with=odd chars"
    client = TrudClient(key, api_url(replica), retry=FAST)
    with pytest.raises(BadRequestError) as caught:
        client.releases(58)
    quoted = "pasted%2Bkey%2Fwith%3Dodd%20chars"
    assert quoted in client.releases_url(58)
    assert quoted not in describe(caught.value) + caught.value.url
    assert quoted not in redact(client.releases_url(58))


def test_a_disabled_key_says_so(replica):
    with pytest.raises(AuthenticationError) as caught:
        TrudClient(TRUD_DISABLED_KEY, api_url(replica), retry=FAST).releases(58)
    assert "disabled" in describe(caught.value)
    assert TRUD_DISABLED_KEY not in describe(caught.value)


@pytest.mark.parametrize("item", [101, 9999])
def test_unsubscribed_and_unknown_items_name_both_possibilities(trud, item):
    with pytest.raises(NotFoundError) as caught:
        trud.releases(item)
    text = describe(caught.value)
    assert f"no item {item}" in text and "not subscribed" in text
    assert TRUD_API_KEY not in text and TRUD_API_KEY not in caught.value.url
    assert "/keys/****/" in caught.value.url


def test_the_key_never_reaches_logs_messages_or_json(trud, replica, caplog):
    caplog.set_level(logging.DEBUG)
    releases = trud.releases(58)
    with pytest.raises(NotFoundError) as caught:
        trud.releases(101)
    printed = json.dumps([r.to_json() for r in releases])
    assert "/keys/****/content/items/58/" in printed
    # Everything the program logs (the replica's own server log aside), urllib3's debug lines too.
    logged = "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith("os_downloads.replica")
    )
    assert "urllib3" in {r.name.split(".")[0] for r in caplog.records}
    everything = logged + printed + describe(caught.value) + repr(releases[0].archive.safe_url)
    assert TRUD_API_KEY not in everything
    assert trud.masked_key.endswith(TRUD_API_KEY[-4:]) and TRUD_API_KEY not in trud.masked_key
    # ...while the URLs the engine fetches do carry it (TRUD's design).
    assert TRUD_API_KEY in releases[0].archive.url


def test_a_busy_list_endpoint_is_retried(trud, replica):
    replica.set_faults(api_429_count=1)
    assert trud.releases(58, latest=True)[0].name == "Release 5.2.0"


def test_a_newly_published_release_comes_first(trud, replica):
    try:
        name = publish(replica, 58)
        assert trud.releases(58, latest=True)[0].archive.file_name == name
        assert len(trud.releases(58)) == 4
    finally:
        restore(replica)
    assert len(trud.releases(58)) == 3


def test_no_key_is_a_configuration_error(monkeypatch):
    monkeypatch.delenv("TRUD_API_KEY", raising=False)
    with pytest.raises(ConfigurationError) as caught:
        TrudClient(None, "http://127.0.0.1:9/trud/api/v1")
    assert "TRUD_API_KEY" in describe(caught.value)


def test_key_and_base_url_from_the_environment(monkeypatch, replica):
    monkeypatch.setenv("TRUD_API_KEY", TRUD_API_KEY)
    monkeypatch.setenv("TRUD_API_URL", api_url(replica))
    assert TrudClient(retry=FAST).releases(14, latest=True)[0].name == "Release 30.0.0"


@pytest.mark.parametrize(
    "value,item",
    [
        ("341", 341),
        (58, 58),
        (
            "https://isd.digital.nhs.uk/trud/users/guest/filters/0/categories/5/items/58/releases",
            58,
        ),
    ],
)
def test_item_numbers_from_numbers_and_web_addresses(value, item):
    assert parse_item(value) == item


@pytest.mark.parametrize("value", ["", "abc", "0", "-3"])
def test_bad_item_numbers(value):
    with pytest.raises(ConfigurationError):
        parse_item(value)
