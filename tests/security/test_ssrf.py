"""The crawler's address checks: which addresses it refuses, and that a connection goes
to the address that was checked (DNS rebinding).

Pure function tests on address literals, and crawls whose resolver is injected and
whose connections are watched: nothing here connects anywhere but 127.0.0.1, and no
name is looked up in the real DNS.
"""

from __future__ import annotations

import ipaddress

import httpcore
import pytest
from localsite import html

from madoguchi.connectors.web import WebConnector, _is_private, start_url_problem
from madoguchi.kit.config import WebSettings

# (address, what it is): every one must be refused
REFUSED = [
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "'this network' 0/8"),
    ("127.0.0.1", "loopback"),
    ("127.1.2.3", "loopback, any of 127/8"),
    ("10.0.0.1", "private 10/8"),
    ("10.255.255.255", "private 10/8"),
    ("172.16.0.1", "private 172.16/12"),
    ("172.31.255.254", "private 172.16/12"),
    ("192.168.0.1", "private 192.168/16"),
    ("169.254.169.254", "link-local: cloud metadata"),
    ("100.64.0.1", "carrier-grade NAT 100.64/10"),
    ("100.100.100.200", "carrier-grade NAT: a cloud metadata address"),
    ("100.127.255.254", "carrier-grade NAT 100.64/10"),
    ("192.0.0.8", "IETF protocol assignments 192.0.0/24"),
    ("192.0.2.1", "documentation"),
    ("198.18.0.1", "benchmarking 198.18/15"),
    ("198.19.255.254", "benchmarking 198.18/15"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast (SSDP)"),
    ("240.0.0.1", "reserved 240/4"),
    ("255.255.255.255", "broadcast"),
    ("::", "IPv6 unspecified"),
    ("::1", "IPv6 loopback"),
    ("fe80::1", "IPv6 link-local"),
    ("fc00::1", "unique local fc00::/7"),
    ("fd12:3456:789a::1", "unique local fc00::/7"),
    ("fec0::1", "deprecated site-local"),
    ("ff02::1", "IPv6 multicast"),
    ("::ffff:127.0.0.1", "IPv4-mapped loopback"),
    ("::ffff:7f00:1", "IPv4-mapped loopback, hex form"),
    ("::ffff:169.254.169.254", "IPv4-mapped metadata"),
    ("::ffff:100.64.0.1", "IPv4-mapped carrier-grade NAT"),
    ("::ffff:0:127.0.0.1", "IPv4-translated loopback"),
    ("::127.0.0.1", "IPv4-compatible loopback (deprecated form)"),
    ("::93.184.215.14", "IPv4-compatible, even of a public address (deprecated form)"),
    ("2002:7f00:0001::", "6to4 of 127.0.0.1"),
    ("2002:a9fe:a9fe::1", "6to4 of 169.254.169.254"),
    ("2002:0a00:0001::1", "6to4 of 10.0.0.1"),
    ("2002:6440:0001::", "6to4 of 100.64.0.1"),
    ("64:ff9b::7f00:1", "NAT64 of 127.0.0.1"),
    ("64:ff9b::a9fe:a9fe", "NAT64 of 169.254.169.254"),
    ("64:ff9b::a00:1", "NAT64 of 10.0.0.1"),
    ("64:ff9b:1::a00:1", "NAT64 local-use prefix"),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
    ("2001:0:7f00:1::", "Teredo whose server part is 127.0.0.1"),
    ("2001:db8::1", "IPv6 documentation"),
    ("100::1", "IPv6 discard prefix"),
]

# public unicast addresses, as literals only (never connected to): they must pass
ALLOWED = [
    "93.184.215.14",
    "203.0.114.1",
    "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
    "::ffff:93.184.215.14",  # IPv4-mapped form of a public address
    "2002:5db8:d70e::1",  # 6to4 form of a public address
    "64:ff9b::5db8:d70e",  # NAT64 form of a public address
]


@pytest.mark.parametrize(("address", "what"), REFUSED, ids=[a for a, _ in REFUSED])
def test_addresses_that_are_not_public_unicast_are_refused(address, what):
    assert _is_private(ipaddress.ip_address(address)), f"{address} ({what}) was let through"


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_pass(address):
    assert not _is_private(ipaddress.ip_address(address))


def _web(**kw) -> WebSettings:
    return WebSettings(**{"rate_limit": 0, "timeout": 0.5, "retries": 0, **kw})


def _no_dns(host: str) -> list[str]:
    raise AssertionError(f"{host!r} was looked up: an address literal needs no DNS")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.1/",  # the short forms inet_aton (and so the system resolver) accepts
        "http://127.0.1/",
        "http://0x7f.0.0.1/",
        "http://0x7f000001/",
        "http://2130706433/",
        "http://0177.0.0.1/",
        "http://017700000001/",
        "http://127.0.0.1./",  # trailing dot
        "http://0/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[2002:7f00:1::]/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://[fe80::1%25eth0]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.100.100.200/latest/meta-data/",
    ],
)
def test_start_urls_with_private_address_literals_are_refused_without_dns(url):
    problem = start_url_problem(url, _web(), resolver=_no_dns)
    assert problem is not None and problem.startswith(("refused", "malformed")), problem


def test_a_name_resolving_to_a_6to4_or_cgnat_address_is_refused():
    for answer in (["2002:7f00:1::"], ["100.64.0.1"], ["93.184.215.14", "::ffff:10.0.0.1"]):
        problem = start_url_problem(
            "https://www.town.example.jp/", _web(), resolver=lambda h, a=answer: a
        )
        assert problem and "private/loopback" in problem, (answer, problem)


class _Connections:
    """Stands in for the system's connect step: records where each connection was asked
    to go, and resolves a name the way the system would at that moment (through the same
    rebinding resolver). Only loopback is really connected to; any other address is
    refused on the spot, without a packet being sent."""

    def __init__(self, resolver, monkeypatch) -> None:
        self.resolver = resolver
        self.asked: list[str] = []
        real = httpcore.SyncBackend.connect_tcp

        def connect_tcp(backend, host, port, timeout=None, local_address=None, socket_options=None):
            self.asked.append(host)
            try:
                ip = ipaddress.ip_address(host)
            except ValueError:  # a name: what DNS answers now
                ip = ipaddress.ip_address(self.resolver(host)[0])
            if not ip.is_loopback:
                raise httpcore.ConnectError(f"test: no connection to {ip} from a test")
            return real(backend, str(ip), port, timeout, local_address, socket_options)

        monkeypatch.setattr(httpcore.SyncBackend, "connect_tcp", connect_tcp)


class _Rebinding:
    """A DNS answer that changes: ``first`` on the first lookup, ``then`` afterwards."""

    def __init__(self, first: str, then: str) -> None:
        self.first, self.then, self.lookups = first, then, 0

    def __call__(self, host: str) -> list[str]:
        self.lookups += 1
        return [self.first if self.lookups == 1 else self.then]


def test_dns_rebinding_cannot_reach_an_internal_address(site, monkeypatch):
    """The name answers a public address when checked, then 127.0.0.1 (our "intranet"
    server): the connection must go to the public address that was checked."""
    resolver = _Rebinding("93.184.215.14", "127.0.0.1")
    connections = _Connections(resolver, monkeypatch)
    conn = WebConnector(
        [f"http://rebind.example.jp:{site.port}/"],
        _web(allow_private_network=False),
        resolver=resolver,
        use_sitemaps=False,
    )
    assert list(conn.documents()) == []
    assert sum(site.hits.values()) == 0, f"the internal server was reached: {site.hits}"
    assert connections.asked and set(connections.asked) == {"93.184.215.14"}, connections.asked
    assert resolver.lookups == 1


def test_a_name_is_resolved_once_and_every_connection_goes_to_that_address(site, monkeypatch):
    """The test site stands for an intranet host (private network allowed): the second
    DNS answer (127.0.0.2, where nothing listens) is never used; the pages are fetched
    from the first, with the original Host header."""
    site.put("/", html("役場", "<p>本文です。</p>", links=["/gomi.html"]))
    site.put("/gomi.html", html("ごみ", "<p>ごみの出し方です。</p>"))
    resolver = _Rebinding("127.0.0.1", "127.0.0.2")
    connections = _Connections(resolver, monkeypatch)
    host = f"intranet.example.jp:{site.port}"
    conn = WebConnector(
        [f"http://{host}/"], _web(allow_private_network=True), resolver=resolver, use_sitemaps=False
    )
    ids = [d.source_id for d in conn.documents()]
    assert ids == [f"http://{host}/", f"http://{host}/gomi.html"], conn.skipped
    assert len(connections.asked) >= 3 and set(connections.asked) == {"127.0.0.1"}
    assert resolver.lookups == 1
    assert set(site.host_headers) == {host}
