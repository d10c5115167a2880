"""Transport safety: no clear-text password to remote hosts, TLS checked, no redirects, capped downloads."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import re
import socket
import ssl
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from security_helpers import RecordingServer, recording_server

from prefect_nextcloud import NextcloudCredentials
from prefect_nextcloud.client import (
    AsyncNextcloudClient,
    DownloadTooLargeError,
    NextcloudClient,
    NextcloudConnectionError,
    NextcloudError,
    NextcloudHTTPError,
)
from prefect_nextcloud.client.retrying import RetryPolicy
from prefect_nextcloud.client.settings import ClientSettings
from prefect_nextcloud.sandbox import NextcloudSandbox

PASSWORD = "Secr3t-App-Passw0rd-Value"
NO_VERIFY = ClientSettings(verify_tls=False)
NO_RETRY = RetryPolicy(max_elapsed_seconds=0)
FACES = pytest.mark.parametrize("face", ["sync", "async"])


def call_through(face: str, client_arguments: dict[str, Any], method: str, *args: Any) -> Any:
    """Build a client of one face, call one method on it, close it."""
    if face == "sync":
        with NextcloudClient(**client_arguments) as client:
            return getattr(client, method)(*args)

    async def call() -> Any:
        async with AsyncNextcloudClient(**client_arguments) as client:
            return await getattr(client, method)(*args)

    return asyncio.run(call())


# -- plain http:// ------------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record (and refuse) every DNS lookup and socket connection."""
    attempts: list[str] = []

    def refuse(name: str) -> Any:
        def refused(*args: Any, **kwargs: Any) -> Any:
            attempts.append(f"{name}{args[1:] if name == 'connect' else args}")
            raise AssertionError(f"network used: {name}")

        return refused

    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(socket, "gethostbyname", refuse("gethostbyname"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("connect_ex"))
    return attempts


REMOTE_HTTP = [
    "http://cloud.example.invalid",
    "http://cloud.example.invalid:8080/nextcloud",
    "http://10.1.2.3",
    "http://192.168.1.20:8080",
    "http://[2001:db8::1]",
    "http://0.0.0.0",
    "http://localhost.example.invalid",
    "http://127.0.0.1.example.invalid",
]


@pytest.mark.parametrize("url", REMOTE_HTTP)
def test_plain_http_to_a_remote_host_is_refused_at_construction(
    url: str, no_network: list[str]
) -> None:
    arguments = {"base_url": url, "user_id": "carol", "app_password": PASSWORD}
    for make in (NextcloudClient, AsyncNextcloudClient):
        with pytest.raises(ValueError, match="Refusing plain http://") as info:
            make(**arguments)
        assert "https://" in str(info.value)
        assert "allow_insecure_http=True" in str(info.value)
        assert PASSWORD not in str(info.value)
    credentials = NextcloudCredentials(**arguments)
    with pytest.raises(ValueError, match="Refusing plain http://"):
        credentials.get_client()
    with pytest.raises(ValueError, match="Refusing plain http://"):
        credentials.get_async_client()
    assert no_network == []


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080", "http://127.9.9.9", "http://localhost:8080", "http://[::1]"]
)
def test_plain_http_to_loopback_is_allowed_and_connects_nowhere_yet(
    url: str, no_network: list[str]
) -> None:
    NextcloudClient(url, "carol", PASSWORD).close()
    asyncio.run(AsyncNextcloudClient(url, "carol", PASSWORD).aclose())
    assert no_network == []


@pytest.mark.parametrize("url", REMOTE_HTTP[:3])
def test_allow_insecure_http_lifts_the_refusal(url: str, no_network: list[str]) -> None:
    NextcloudClient(
        url, "carol", PASSWORD, settings=ClientSettings(allow_insecure_http=True)
    ).close()
    credentials = NextcloudCredentials(
        base_url=url, user_id="carol", app_password=PASSWORD, allow_insecure_http=True
    )
    credentials.get_client().close()
    asyncio.run(credentials.get_async_client().aclose())
    assert no_network == []


def test_https_is_never_refused(no_network: list[str]) -> None:
    NextcloudClient("https://cloud.example.invalid", "carol", PASSWORD).close()
    assert no_network == []


# -- TLS ----------------------------------------------------------------------------------------


def _ours(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if "verification is OFF" in str(w.message)]


def test_verify_tls_off_warns_loudly_once_per_server() -> None:
    first = f"https://tls-off-{uuid4().hex}.example.invalid"
    second = f"https://tls-off-{uuid4().hex}.example.invalid"
    with pytest.warns(
        UserWarning, match=re.escape(f"TLS certificate verification is OFF for {first}")
    ):
        NextcloudClient(first, "carol", PASSWORD, settings=NO_VERIFY).close()
    with warnings.catch_warnings(record=True) as again:
        warnings.simplefilter("always")
        NextcloudClient(first, "carol", PASSWORD, settings=NO_VERIFY).close()
        credentials = NextcloudCredentials(
            base_url=first, user_id="carol", app_password=PASSWORD, verify_tls=False
        )
        credentials.get_client().close()
        asyncio.run(credentials.get_async_client().aclose())
        NextcloudClient(first, "carol", PASSWORD).close()  # verifying: never a warning
    assert _ours(again) == []
    with pytest.warns(UserWarning, match="verification is OFF") as other:
        asyncio.run(AsyncNextcloudClient(second, "carol", PASSWORD, settings=NO_VERIFY).aclose())
    [message] = _ours(other.list)
    assert second in message
    assert "app password" in message
    assert PASSWORD not in message


def test_verification_is_on_by_default() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        credentials = NextcloudCredentials(
            base_url=f"https://tls-on-{uuid4().hex}.example.invalid",
            user_id="carol",
            app_password=PASSWORD,
        )
        credentials.get_client().close()
    assert credentials.verify_tls is True
    assert _ours(caught) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(None, r"ca_bundle .* is not a file", id="missing"),
        pytest.param(
            "not a certificate\n", r"ca_bundle .* could not be read as PEM", id="no-certificates"
        ),
    ],
)
def test_an_unusable_ca_bundle_is_a_clear_error(
    tmp_path: Path, content: str | None, message: str
) -> None:
    ca_bundle = tmp_path / "ca.pem"
    if content is not None:
        ca_bundle.write_text(content)
    for make in (NextcloudClient, AsyncNextcloudClient):
        with pytest.raises(ValueError, match=message) as info:
            make(
                "https://cloud.example.invalid",
                "carol",
                PASSWORD,
                settings=ClientSettings(ca_bundle=str(ca_bundle)),
            )
        # It names the file and what it must be.
        assert str(ca_bundle) in str(info.value)
        assert "give the path of a PEM file" in str(info.value)
    credentials = NextcloudCredentials(
        base_url="https://cloud.example.invalid",
        user_id="carol",
        app_password=PASSWORD,
        ca_bundle=str(ca_bundle),
    )
    with pytest.raises(ValueError, match=message):
        credentials.get_client()
    with pytest.raises(ValueError, match=message):
        credentials.get_async_client()


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that is its own CA, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "prefect-nextcloud test CA")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "ca.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[RecordingServer, Path]]:
    """An HTTPS server on loopback with a certificate no system store trusts, and its CA file."""
    cert_path, key_path = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    with recording_server(context) as server:
        yield server, cert_path


@FACES
def test_an_untrusted_certificate_is_refused_by_default(
    tls_server: tuple[RecordingServer, Path], face: str
) -> None:
    server, _ = tls_server
    arguments = {"base_url": server.url, "user_id": "carol", "app_password": PASSWORD}
    with pytest.raises(NextcloudConnectionError, match=r"(?i)certificate verify failed"):
        call_through(face, {**arguments, "retry_policy": NO_RETRY}, "get_task", 1)
    assert server.paths == []  # the handshake failed: no request, no Authorization header


@FACES
def test_ca_bundle_is_honoured(tls_server: tuple[RecordingServer, Path], face: str) -> None:
    server, ca_bundle = tls_server
    arguments = {
        "base_url": server.url,
        "user_id": "carol",
        "app_password": PASSWORD,
        "settings": ClientSettings(ca_bundle=str(ca_bundle)),
        "retry_policy": NO_RETRY,
    }
    with pytest.raises(NextcloudHTTPError) as info:  # the server answers 404 to everything
        call_through(face, arguments, "get_task", 1)
    assert info.value.status_code == 404
    assert server.paths  # the TLS connection was made


@pytest.mark.filterwarnings("ignore:TLS certificate verification is OFF")
def test_verify_tls_off_connects_to_an_untrusted_server(
    tls_server: tuple[RecordingServer, Path],
) -> None:
    server, _ = tls_server
    arguments = {"base_url": server.url, "user_id": "carol", "app_password": PASSWORD}
    with pytest.raises(NextcloudHTTPError):
        call_through(
            "sync", {**arguments, "settings": NO_VERIFY, "retry_policy": NO_RETRY}, "get_task", 1
        )
    assert server.paths


# -- redirects ----------------------------------------------------------------------------------


@pytest.fixture
def other_host() -> Iterator[RecordingServer]:
    """A second plain-HTTP server on loopback, standing for another host."""
    with recording_server() as server:
        yield server


@pytest.mark.parametrize(
    ("face", "status", "method", "args"),
    [
        ("sync", 302, "get_task", (1,)),
        ("async", 302, "get_task", (1,)),
        ("sync", 301, "get_task_types", ()),
        ("sync", 307, "schedule_task", ("core:text2text", {"input": "Hi"})),
        ("sync", 308, "download_file", ("/a.txt",)),
        ("async", 302, "download_file", ("/a.txt",)),
        ("sync", 302, "upload_file", ("/a.txt", b"data")),
    ],
)
def test_redirects_are_not_followed(
    sandbox: NextcloudSandbox,
    other_host: RecordingServer,
    face: str,
    status: int,
    method: str,
    args: tuple[Any, ...],
) -> None:
    sandbox.upload("a.txt", b"hello")
    target = f"{other_host.url}/x"
    sandbox.inject_error("", status=status, headers={"Location": target})  # the very first request
    arguments = {
        "base_url": sandbox.base_url,
        "user_id": sandbox.user_id,
        "app_password": sandbox.app_password,
        "retry_policy": NO_RETRY,
    }
    with pytest.raises(NextcloudError) as info:
        call_through(face, arguments, method, *args)
    assert len(sandbox.requests) == 1
    assert sandbox.requests[0].status == status
    assert other_host.paths == []
    message = str(info.value)
    assert target in message
    assert "base_url" in message
    assert "not followed" in message


# -- download size caps -------------------------------------------------------------------------

BIG = b"x" * 5000


@FACES
def test_a_download_over_max_bytes_is_cut_off(sandbox: NextcloudSandbox, face: str) -> None:
    sandbox.upload("big.bin", BIG)
    arguments = {
        "base_url": sandbox.base_url,
        "user_id": sandbox.user_id,
        "app_password": sandbox.app_password,
    }
    with pytest.raises(DownloadTooLargeError, match="1000 bytes") as info:
        _download(face, arguments, "/big.bin", max_bytes=1000)
    assert info.value.max_bytes == 1000
    assert "max_bytes" in str(info.value)
    capped = {**arguments, "settings": ClientSettings(max_download_bytes=1000)}
    with pytest.raises(DownloadTooLargeError, match="1000 bytes"):
        _download(face, capped, "/big.bin")
    assert _download(face, capped, "/big.bin", max_bytes=len(BIG)) == BIG


def _download(face: str, arguments: dict[str, Any], path: str, **options: Any) -> bytes:
    if face == "sync":
        with NextcloudClient(**arguments) as client:
            return client.download_file(path, **options)

    async def call() -> bytes:
        async with AsyncNextcloudClient(**arguments) as client:
            return await client.download_file(path, **options)

    return asyncio.run(call())


@FACES
def test_task_files_respect_max_download_bytes(sandbox: NextcloudSandbox, face: str) -> None:
    file_id = sandbox.upload("big.wav", b"RIFF0000WAVEfmt " + BIG)
    arguments = {
        "base_url": sandbox.base_url,
        "user_id": sandbox.user_id,
        "app_password": sandbox.app_password,
    }
    with NextcloudClient(**arguments) as client:
        task = client.schedule_task("core:audio2text", {"input": file_id})
    capped = {**arguments, "settings": ClientSettings(max_download_bytes=1000)}
    with pytest.raises(DownloadTooLargeError, match="1000 bytes") as info:
        call_through(face, capped, "get_task_file", task.id, file_id)
    assert info.value.max_bytes == 1000
    assert "max_download_bytes" in str(info.value)
    whole = call_through(face, arguments, "get_task_file", task.id, file_id)
    assert len(whole.content) == len(BIG) + 16
